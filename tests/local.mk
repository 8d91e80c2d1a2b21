# tests/: TAP programs and scripts run by `make check`.
check_PROGRAMS += tests/test_cli
TESTS += tests/test_cli
tests_test_cli_SOURCES = tests/test_cli.c tests/tap.h src/cli.c
tests_test_cli_LDADD = $(TOOL_LIBS)

EXTRA_DIST += tests/fixtures
# the TAP driver autogen.sh copies from automake: a tarball needs it too
EXTRA_DIST += build-aux/tap-driver.sh
# helpers shared by the test programs (header-only) and sourced by the scripts
EXTRA_DIST += tests/testutil.h tests/lib.sh
# the one-call GPU machine script (docs/HACKING.md), not part of make check
EXTRA_DIST += tests/device_check.sh tests/ncu_summary.py

# the chat screen's pure parts (issue 6)
check_PROGRAMS += tests/test_wrap tests/test_statusbar tests/test_slash
TESTS += tests/test_wrap tests/test_statusbar tests/test_slash
tests_test_wrap_SOURCES = tests/test_wrap.c tests/tap.h
tests_test_wrap_LDADD = ui/libglmui.a -lm
tests_test_statusbar_SOURCES = tests/test_statusbar.c tests/tap.h
tests_test_statusbar_LDADD = ui/libglmui.a -lm
tests_test_slash_SOURCES = tests/test_slash.c tests/tap.h
tests_test_slash_LDADD = ui/libglmui.a -lm
check_PROGRAMS += tests/test_transcript
TESTS += tests/test_transcript
tests_test_transcript_SOURCES = tests/test_transcript.c tests/tap.h
tests_test_transcript_LDADD = ui/libglmui.a -lm
# the chat end to end: in tmux, and without a terminal
check_SCRIPTS += tests/test_tui.sh tests/test_plain_mode.sh
TESTS += tests/test_tui.sh tests/test_plain_mode.sh
EXTRA_DIST += tests/test_tui.sh tests/test_plain_mode.sh

# quant formats (issue 2)
check_PROGRAMS += tests/test_quant
TESTS += tests/test_quant
tests_test_quant_SOURCES = tests/test_quant.c tests/tap.h
tests_test_quant_CPPFLAGS = $(AM_CPPFLAGS) $(CJSON_CFLAGS)
tests_test_quant_LDADD = $(ENGINE_LIBS)

# config file, sessions, atomic writes, model download (issue 7)
check_PROGRAMS += tests/test_atomic_write tests/test_config tests/test_sha256
TESTS += tests/test_atomic_write tests/test_config tests/test_sha256
tests_test_sha256_SOURCES = tests/test_sha256.c tests/tap.h
tests_test_sha256_LDADD = $(TOOL_LIBS)
tests_test_atomic_write_SOURCES = tests/test_atomic_write.c tests/tap.h
tests_test_atomic_write_LDADD = $(TOOL_LIBS)
tests_test_config_SOURCES = tests/test_config.c tests/tap.h src/cli.c
tests_test_config_CPPFLAGS = $(AM_CPPFLAGS) $(CJSON_CFLAGS)
tests_test_config_LDADD = $(TOOL_LIBS)
check_PROGRAMS += tests/test_session tests/test_sleep tests/test_hf
TESTS += tests/test_session tests/test_sleep tests/test_hf
tests_test_hf_SOURCES = tests/test_hf.c tests/tap.h
tests_test_hf_LDADD = $(TOOL_LIBS)
tests_test_sleep_SOURCES = tests/test_sleep.c tests/tap.h
tests_test_sleep_LDADD = $(ENGINE_LIBS)
tests_test_session_SOURCES = tests/test_session.c tests/tap.h
tests_test_session_CPPFLAGS = $(AM_CPPFLAGS) $(CJSON_CFLAGS)
tests_test_session_LDADD = $(TOOL_LIBS)
check_SCRIPTS += tests/test_pull.sh tests/test_man.sh tests/test_install.sh
TESTS += tests/test_pull.sh tests/test_man.sh tests/test_install.sh
EXTRA_DIST += tests/test_pull.sh tests/hf_server.py tests/test_man.sh tests/test_install.sh

# GGUF loader and model binding (issue 2)
check_PROGRAMS += tests/test_gguf tests/test_model
TESTS += tests/test_gguf tests/test_model
tests_test_gguf_SOURCES = tests/test_gguf.c tests/tap.h tests/gguf_writer.h
tests_test_gguf_LDADD = $(ENGINE_LIBS)
tests_test_model_SOURCES = tests/test_model.c tests/tap.h tests/gguf_writer.h
tests_test_model_CPPFLAGS = $(AM_CPPFLAGS) $(CJSON_CFLAGS)
tests_test_model_LDADD = $(ENGINE_LIBS)

# tokenizer (issue 3)
check_PROGRAMS += tests/test_tokenizer
check_SCRIPTS += tests/test_tokenize_cli.sh
TESTS += tests/test_tokenizer tests/test_tokenize_cli.sh
EXTRA_DIST += tests/test_tokenize_cli.sh
tests_test_tokenizer_SOURCES = tests/test_tokenizer.c tests/tap.h
tests_test_tokenizer_CPPFLAGS = $(AM_CPPFLAGS) $(CJSON_CFLAGS)
tests_test_tokenizer_LDADD = $(ENGINE_LIBS)
noinst_PROGRAMS += tests/bench_tokenizer
tests_bench_tokenizer_SOURCES = tests/bench_tokenizer.c
tests_bench_tokenizer_LDADD = $(ENGINE_LIBS)
check_SCRIPTS += tests/test_inspect.sh
TESTS += tests/test_inspect.sh
EXTRA_DIST += tests/test_inspect.sh

# the loader's fuzz target: a replay program in every build (reproduces a
# crash, writes the seed corpus), a libFuzzer binary with --enable-fuzzing.
# Both compile just the loader, so the fuzz build needs nothing else.
FUZZ_GGUF_SOURCES = tests/fuzz_gguf.c tests/gguf_writer.h \
	engine/gguf.c engine/model.c engine/ggml_types.c
check_PROGRAMS += tests/fuzz_gguf_replay
tests_fuzz_gguf_replay_SOURCES = $(FUZZ_GGUF_SOURCES)
tests_fuzz_gguf_replay_LDADD = -lm
if ENABLE_FUZZING
check_PROGRAMS += tests/fuzz_gguf
tests_fuzz_gguf_SOURCES = $(FUZZ_GGUF_SOURCES)
tests_fuzz_gguf_CPPFLAGS = $(AM_CPPFLAGS) -DGLMCHAT_LIBFUZZER
tests_fuzz_gguf_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_gguf_LDADD = -lm
endif

# quant kernel throughput (not a test): tests/bench_quant [MB] [seconds]
noinst_PROGRAMS += tests/bench_quant
tests_bench_quant_SOURCES = tests/bench_quant.c
tests_bench_quant_LDADD = $(ENGINE_LIBS)

# chat format (issue 3)
check_PROGRAMS += tests/test_chat
TESTS += tests/test_chat
tests_test_chat_SOURCES = tests/test_chat.c tests/tap.h
tests_test_chat_CPPFLAGS = $(AM_CPPFLAGS) $(CJSON_CFLAGS)
tests_test_chat_LDADD = $(ENGINE_LIBS)
check_SCRIPTS += tests/test_render_cli.sh
TESTS += tests/test_render_cli.sh
EXTRA_DIST += tests/test_render_cli.sh

# the CUDA backend (issue 5): per-op and whole-model checks; SKIP without a device
if HAVE_CUDA
check_PROGRAMS += tests/test_cuda_ops tests/test_cuda_model
TESTS += tests/test_cuda_ops tests/test_cuda_model
tests_test_cuda_ops_SOURCES = tests/test_cuda_ops.c tests/tap.h
tests_test_cuda_ops_CPPFLAGS = $(AM_CPPFLAGS) $(CJSON_CFLAGS)
tests_test_cuda_ops_LDADD = $(ENGINE_LIBS) $(CUDA_BACKEND_LIBS) $(ENGINE_LIBS)
tests_test_cuda_model_SOURCES = tests/test_cuda_model.c tests/tap.h
tests_test_cuda_model_CPPFLAGS = $(AM_CPPFLAGS) $(CJSON_CFLAGS)
tests_test_cuda_model_LDADD = $(ENGINE_LIBS) $(CUDA_BACKEND_LIBS) $(ENGINE_LIBS)
endif

# the engine API and the CPU reference backend (issue 4)
check_PROGRAMS += tests/test_forward tests/test_sampler tests/test_engine
TESTS += tests/test_forward tests/test_sampler tests/test_engine
tests_test_forward_SOURCES = tests/test_forward.c tests/tap.h
tests_test_forward_CPPFLAGS = $(AM_CPPFLAGS) $(CJSON_CFLAGS)
tests_test_forward_LDADD = $(ENGINE_LIBS)
tests_test_sampler_SOURCES = tests/test_sampler.c tests/tap.h
tests_test_sampler_LDADD = $(ENGINE_LIBS)
tests_test_engine_SOURCES = tests/test_engine.c tests/tap.h
tests_test_engine_CPPFLAGS = $(AM_CPPFLAGS) $(CJSON_CFLAGS)
tests_test_engine_LDADD = $(ENGINE_LIBS)
check_SCRIPTS += tests/test_cli_engine.sh
TESTS += tests/test_cli_engine.sh
EXTRA_DIST += tests/test_cli_engine.sh
