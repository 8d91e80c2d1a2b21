# templates/: chat-format data files, installed to $(pkgdatadir)/templates.
nobase_dist_pkgdata_DATA += templates/glm-4.7.txt
