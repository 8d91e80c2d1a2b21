# man/: manual pages.
dist_man_MANS += man/glmchat.1 man/glmchat.conf.5
