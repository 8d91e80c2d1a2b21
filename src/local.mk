# src/: the glmchat program: subcommands and glue.
bin_PROGRAMS += src/glmchat
src_glmchat_CPPFLAGS = $(AM_CPPFLAGS) $(NCURSESW_CFLAGS) $(READLINE_CFLAGS) $(CJSON_CFLAGS)
src_glmchat_SOURCES = \
	src/main.c src/cli.c src/cli.h src/commands.h \
	src/cmd_chat.c src/cmd_run.c src/cmd_inspect.c \
	src/cmd_tokenize.c src/cmd_detokenize.c src/cmd_render.c \
	src/cmd_logits.c src/cmd_generate.c src/cmd_bench.c
# engine twice: the CUDA library calls back into engine helpers (quant, model).
src_glmchat_LDADD = $(UI_LIBS) $(ENGINE_LIBS) $(CUDA_BACKEND_LIBS) $(ENGINE_LIBS) $(LIBCURL_LIBS)
