# src/: the glmchat program: subcommands and glue.
bin_PROGRAMS += src/glmchat
src_glmchat_CPPFLAGS = $(AM_CPPFLAGS) $(NCURSESW_CFLAGS) $(READLINE_CFLAGS) $(CJSON_CFLAGS)
src_glmchat_SOURCES = \
	src/main.c src/cli.c src/cli.h src/cli_io.c src/cli_io.h src/commands.h \
	src/cmd_chat.c src/chat_session.c src/chat_session.h src/chat_plain.c src/chat_plain.h \
	src/cmd_run.c src/cmd_inspect.c \
	src/cmd_tokenize.c src/cmd_detokenize.c src/cmd_render.c \
	src/cmd_logits.c src/cmd_generate.c src/cmd_bench.c
# engine twice: the CUDA library calls back into engine helpers (quant, model).
src_glmchat_LDADD = $(UI_LIBS) $(ENGINE_LIBS) $(CUDA_BACKEND_LIBS) $(ENGINE_LIBS) $(LIBCURL_LIBS)

# config file, sessions, atomic writes, model download (issue 7): a
# library, so that tests link just what they use.
noinst_LIBRARIES += src/libglmtool.a
src_libglmtool_a_CPPFLAGS = $(AM_CPPFLAGS) $(CJSON_CFLAGS) $(LIBCURL_CFLAGS)
src_libglmtool_a_SOURCES = \
	src/xdg.c src/xdg.h src/atomic_write.c src/atomic_write.h \
	src/userconfig.c src/userconfig.h src/session.c src/session.h \
	src/sha256.c src/sha256.h src/gguf_merge.c src/gguf_merge.h \
	src/hf_pull.c src/hf_pull.h src/model_source.c src/model_source.h
TOOL_LIBS = src/libglmtool.a $(ENGINE_LIBS) $(LIBCURL_LIBS) $(CJSON_LIBS)
src_glmchat_SOURCES += src/cmd_config.c src/cmd_pull.c src/cmd_list.c
src_glmchat_LDADD += $(TOOL_LIBS)

# The demo model (random weights) the chat opens when no model is given:
# the tiny test fixture, installed as $(pkgdatadir)/demo.gguf.
pkgdata_DATA = src/demo.gguf
CLEANFILES += src/demo.gguf
src/demo.gguf: $(top_srcdir)/tests/fixtures/models/tiny-q8_0.gguf
	$(AM_V_GEN)$(MKDIR_P) src && cp $(top_srcdir)/tests/fixtures/models/tiny-q8_0.gguf $@ && chmod u+w $@
