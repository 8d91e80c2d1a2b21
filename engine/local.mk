# engine/: the inference engine as a static library (no terminal, no exit).
noinst_LIBRARIES += engine/libglmengine.a
engine_libglmengine_a_CPPFLAGS = $(AM_CPPFLAGS) $(PCRE2_CFLAGS) $(CJSON_CFLAGS)
engine_libglmengine_a_SOURCES = \
	engine/ggml_types.h engine/tensor.h engine/gguf.h engine/model.h \
	engine/quant.h engine/tokenizer.h engine/chat.h engine/backend.h engine/engine.h \
	engine/ggml_types.c \
	engine/quant_blocks.h engine/quant.c engine/quant_half.c engine/quant_ref.c \
	engine/quant_q8.c engine/quant_avx2.h engine/quant_avx2.c engine/quant_avx2_q8.c \
	engine/quant_avx2_f32.c \
	engine/gguf.c \
	engine/tokenizer_impl.h engine/tokenizer.c engine/tokenizer_bpe.c \
	engine/tokenizer_encode.c engine/tokenizer_decode.c \
	engine/chat_format.h engine/chat_format.c engine/chat_render.c engine/conversation.c \
	engine/json_py.h engine/json_py.c engine/output_parser.h engine/output_parser.c \
	engine/model.c \
	engine/kv_type.c \
	engine/engine.c engine/engine_impl.h engine/generate.c engine/stats.c \
	engine/sampler.h engine/sampler.c engine/threadpool.h engine/threadpool.c \
	engine/cpu_internal.h engine/cpu_backend.c engine/cpu_forward.c engine/cpu_ops.c

# Libraries a program linking the engine needs, in link order.
# The engine calls the CUDA backend (when built) and the CUDA library calls
# back into engine helpers, hence the engine library on both sides.
ENGINE_LIBS = engine/libglmengine.a $(CUDA_BACKEND_LIBS) engine/libglmengine.a \
	$(PCRE2_LIBS) $(CJSON_LIBS) -lm
