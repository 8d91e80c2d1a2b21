# engine/: the inference engine as a static library (no terminal, no exit).
noinst_LIBRARIES += engine/libglmengine.a
engine_libglmengine_a_CPPFLAGS = $(AM_CPPFLAGS) $(PCRE2_CFLAGS) $(CJSON_CFLAGS)
engine_libglmengine_a_SOURCES = \
	engine/ggml_types.h engine/tensor.h engine/gguf.h engine/model.h \
	engine/quant.h engine/tokenizer.h engine/chat.h engine/backend.h engine/engine.h \
	engine/ggml_types.c \
	engine/kv_type.c \
	engine/engine.c

# Libraries a program linking the engine needs, in link order.
ENGINE_LIBS = engine/libglmengine.a $(PCRE2_LIBS) $(CJSON_LIBS) -lm
