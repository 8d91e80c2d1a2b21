#!/bin/bash
# device_check.sh: everything a session needs on the GPU machine, in one call.
# Not part of `make check` (it needs an H200 and ~6 minutes).
#
#   bash tests/device_check.sh pack   HERE: build --enable-cuda CUDA_ARCHS=90 in
#                                     .dev/build-cuda, pack binaries, libcjson,
#                                     the mla20 fixtures and the shared tools
#                                     into .dev/dc/ (git-ignored, < 64 MiB)
#   bash tests/device_check.sh run    THERE: the `run` tool's command, with
#                                     carry [".dev/dc"] (all of .dev holds the
#                                     build tree, far over the 64 MiB limit)
#
# run: both CUDA tests, make_fullsize q4_k_m, the bench of the default
# configuration, one bench row set per option under test, the idle-sleep
# measurement; logs under $OUT, a summary table printed last. Every step is
# time-boxed and skipped once the call's budget (DC_BUDGET s, 300; plus ~1 min
# for the machine's start) is spent.
# Options under test: add a line to OPTIONS below (name and bench flags).
# DC_DIR (.dev/dc) and DC_BUILD (.dev/build-cuda), relative to the checkout,
# let two people pack different builds. DC_ROWS="name:bench args;name:args"
# replaces the bench sets below (and skips the ncu profile and idle sleep,
# unless DC_NCU=1): a short call for one question. DC_REF_BUILD (a build
# tree, relative to the checkout) packs its bench too: rows named ref-* run
# it, so that a change and its baseline are measured in one call (timings
# of different calls differ by several percent). DC_ATTN="args" runs
# glmchat-cuda-attnbench (one layer's decode attention alone) after the
# tests (DC_ATTN="" for its defaults). DC_SANITIZE=1 runs the tests under
# compute-sanitizer first (memcheck, racecheck, synccheck; see run() below).
# DC_KEEP_MODEL=1 leaves
# /tmp/full.gguf for commands after this one in the same call.
set -u
OPTIONS=(
	"no-mma:--no-mma-gemv"
	"attn8:--attn-warps 8"
)
REPO=$(cd "$(dirname "$0")/.." && pwd)
DC=$REPO/${DC_DIR:-.dev/dc}

pack() {
	set -e
	local B=$REPO/${DC_BUILD:-.dev/build-cuda} shared=${GLMCHAT_SHARED:-$REPO/../shared}
	mkdir -p "$B"
	if [ ! -f "$B/Makefile" ]; then
		(cd "$REPO" && ./autogen.sh >/dev/null)
		(cd "$B" && "$REPO/configure" --enable-cuda CUDA_ARCHS=90 -q)
	fi
	(cd "$B" && make -j2 tests/test_cuda_ops tests/test_cuda_model \
		cuda/glmchat-cuda-bench cuda/glmchat-cuda-sleep cuda/glmchat-cuda-attnbench >/dev/null)
	local K=/tmp/dc-pack
	rm -rf $K && mkdir -p $K/bin $K/lib $K/fixtures/models $K/tools
	for f in tests/test_cuda_ops tests/test_cuda_model cuda/glmchat-cuda-bench cuda/glmchat-cuda-sleep \
		cuda/glmchat-cuda-attnbench; do
		strip -o /tmp/dc-pack/bin/"$(basename $f)" "$B/$f"
	done
	if [ -n "${DC_REF_BUILD:-}" ]; then
		(cd "$REPO/$DC_REF_BUILD" && make -j2 cuda/glmchat-cuda-bench >/dev/null)
		strip -o /tmp/dc-pack/bin/glmchat-cuda-bench-ref "$REPO/$DC_REF_BUILD/cuda/glmchat-cuda-bench"
	fi
	cp -P /usr/lib/x86_64-linux-gnu/libcjson.so.1* /tmp/dc-pack/lib/
	cp "$shared"/fixtures/models/mla20-* /tmp/dc-pack/fixtures/models/
	cp "$shared"/tools/* /tmp/dc-pack/tools/
	rm -rf "$DC" && mkdir -p "$DC"
	(cd /tmp/dc-pack && tar cf - bin lib fixtures tools | xz -T2 -6 > "$DC/pkg.tar.xz")
	rm -rf /tmp/dc-pack
	local kb=$(du -k "$DC/pkg.tar.xz" | cut -f1)
	echo "device_check: packed $DC/pkg.tar.xz (${kb} KiB)"
	[ "$kb" -lt 65536 ] || { echo "device_check: over the 64 MiB carry limit" >&2; exit 1; }
	echo "next: run tool, command 'bash tests/device_check.sh run', carry [\".dev/dc\"]"
}

run() {
	: "${OUT:?device_check: run mode needs \$OUT (the run tool sets it)}"
	local P=/tmp/dc budget=${DC_BUDGET:-300} T0=$(date +%s)
	mkdir -p $P && tar xJf "$DC/pkg.tar.xz" -C $P || { echo "device_check: no package: run pack first"; exit 1; }
	local B=$P/bin S=$OUT/summary.txt
	export LD_LIBRARY_PATH=$P/lib:/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}
	export GLMCHAT_FIXTURES=$REPO/tests/fixtures GLMCHAT_SHARED=$P
	el() { echo "[t+$(( $(date +%s) - T0 ))s] $*" | tee -a $S; }
	left() { echo $(( budget - ($(date +%s) - T0) )); }
	nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem --format=csv,noheader | tee -a $S
	ldd $B/glmchat-cuda-bench $B/test_cuda_ops | grep "not found" | tee -a $S
	# the full-size model meanwhile (~1 min, 18 GB on /tmp)
	(timeout 150 python3 $P/tools/make_fullsize.py /tmp/full.gguf q4_k_m > $OUT/mkfull.log 2>&1
	 echo "rc=$?" >> $OUT/mkfull.log) &
	local mk=$!
	for t in test_cuda_ops test_cuda_model; do
		(s=$(date +%s); timeout 120 $B/$t > $OUT/$t.log 2>&1; echo "rc=$? $(( $(date +%s) - s ))s" > $OUT/$t.rc) &
	done
	while [ ! -f $OUT/test_cuda_ops.rc ] || [ ! -f $OUT/test_cuda_model.rc ]; do sleep 1; done
	for t in test_cuda_ops test_cuda_model; do
		local L=$OUT/$t.log
		el "$t $(cat $OUT/$t.rc) ok=$(grep -c '^ok' $L) not_ok=$(grep -c '^not ok' $L) plan=$(grep -m1 '^1\.\.' $L)"
		grep -E "^not ok|Bail" $OUT/$t.log | head -20 | tee -a $S
	done
	# compute-sanitizer on the CUDA tests (DC_SANITIZE=1): memcheck on the
	# model test and on every op, racecheck and synccheck on the attention
	# kernels (their shared-memory pipelines); ~100x slower than plain runs,
	# so each is time-boxed and its log says how far it got
	if [ "${DC_SANITIZE:-0}" = 1 ] && command -v compute-sanitizer >/dev/null; then
		el "compute-sanitizer"
		SAN() {   # NAME TOOL ONLY BINARY
			GLMCHAT_CUDA_OPS_ONLY=$3 timeout ${DC_SAN_TIMEOUT:-200} compute-sanitizer --tool $2 \
				--error-exitcode 9 $B/$4 > $OUT/san-$1.log 2>&1
			echo "rc=$?" >> $OUT/san-$1.log
		}
		local san=()
		SAN mem-model memcheck "" test_cuda_model & san+=($!)
		SAN mem-ops memcheck gemv test_cuda_ops & san+=($!)
		SAN mem-attn memcheck attention test_cuda_ops & san+=($!)
		SAN race-general racecheck attn-general test_cuda_ops & san+=($!)
		SAN race-decode racecheck attn-decode test_cuda_ops & san+=($!)
		SAN sync-attn synccheck attention test_cuda_ops & san+=($!)
		wait "${san[@]}"   # (not the model being written meanwhile)
		for f in $OUT/san-*.log; do
			el "$(basename $f .log): $(tail -1 $f) ok=$(grep -c '^ok' $f) not_ok=$(grep -c '^not ok' $f)" \
				"reports=$(grep -c -E '^========= (Error|Warning|Race|Invalid)' $f)" \
				"$(grep -m1 -E 'ERROR SUMMARY|RACECHECK SUMMARY' $f)"
		done
	fi
	# one layer's decode attention alone (no model needed; the GPU is free
	# again, the model is still being written by the CPU)
	if [ "${DC_ATTN-x}" != x ]; then
		el "attention alone: ${DC_ATTN}"
		timeout 90 $B/glmchat-cuda-attnbench ${DC_ATTN} > $OUT/attn.log 2>&1
		echo "rc=$?" >> $OUT/attn.log
		tee -a $S < $OUT/attn.log
	fi
	wait $mk
	el "full-size model: $(tail -1 $OUT/mkfull.log)"
	[ -f /tmp/full.gguf ] || { el "no model: benches skipped"; cat $S; return; }
	# BN TIMEOUT NAME ARGS...: one bench invocation, skipped when the budget is spent
	BN() {
		local tmo=$1 name=$2; shift 2
		if [ "$(left)" -lt 15 ]; then el "skip $name (budget)"; return; fi
		[ "$tmo" -gt "$(left)" ] && tmo=$(left)
		el "bench $name: $*"
		local bin=$B/glmchat-cuda-bench
		case $name in ref-*) bin=$B/glmchat-cuda-bench-ref ;; esac
		timeout $tmo $bin -m /tmp/full.gguf -b 2048 "$@" > $OUT/bench-$name.log 2>&1
		echo "rc=$?" >> $OUT/bench-$name.log
	}
	# each option under test against the default, same rows, back to back
	# (first: what a session most needs to know); rows are printed as they
	# finish, so a time-out keeps the rows before it
	if [ -n "${DC_ROWS:-}" ]; then
		local rows row args
		IFS=';' read -ra rows <<< "$DC_ROWS"
		for row in "${rows[@]}"; do
			IFS=' ' read -ra args <<< "${row#*:}"
			BN 90 "${row%%:*}" "${args[@]}"
		done
	else
	BN 25 ref -p 0 -n 128 -d 0,8192 --fa on --ctk f16 -r 2
	for o in "${OPTIONS[@]}"; do
		BN 25 "${o%%:*}" -p 0 -n 128 -d 0,8192 --fa on --ctk f16 -r 2 ${o#*:}
	done
	# the default configuration as a whole (filling 32k of context takes
	# ~20 s per cache type)
	BN 60 default-f16 -p 512,2048 -n 128 -d 0,8192,32768 --fa on --ctk f16 -r 1
	BN 60 default-q8_0 -p 512,2048 -n 128 -d 0,8192,32768 --fa on --ctk q8_0 -r 1
	BN 30 fa-off -p 512 -n 128 -d 0,8192 --fa off --ctk f16 -r 1
	fi
	# per-kernel GPU time of one decode step at depth 0 (ncu serialises the
	# kernels: the sum against the graph's step time is the launch overhead)
	if [ "$(left)" -gt 60 ] && command -v ncu >/dev/null && { [ -z "${DC_ROWS:-}" ] || [ "${DC_NCU:-0}" = 1 ]; }; then
		el "ncu: one decode step, per kernel"
		timeout $(( $(left) - 20 )) ncu --clock-control none --cache-control none --csv --page raw \
			--metrics gpu__time_duration.sum,dram__bytes_read.sum,launch__grid_size,launch__registers_per_thread,sm__warps_active.avg.pct_of_peak_sustained_active \
			$B/glmchat-cuda-bench -m /tmp/full.gguf -b 2048 -p 0 -n 1 -d 0 -r 1 --no-graph ${DC_NCU_FLAGS:-} \
			> $OUT/ncu.csv 2> $OUT/ncu.err
		python3 "$REPO/tests/ncu_summary.py" $OUT/ncu.csv 3 > $OUT/ncu-summary.txt 2>&1
		head -30 $OUT/ncu-summary.txt | tee -a $S
	fi
	if [ "$(left)" -gt 20 ] && [ -z "${DC_ROWS:-}" ]; then
		el "idle sleep"
		timeout 40 $B/glmchat-cuda-sleep /tmp/full.gguf 32768 > $OUT/sleep.log 2>&1
		echo "rc=$?" >> $OUT/sleep.log
	fi
	[ "${DC_KEEP_MODEL:-0}" = 1 ] || rm -f /tmp/full.gguf
	el "SUMMARY"
	cat $S
	echo "| run | fa | ctk | test | t/s | VRAM GiB |"
	for f in $OUT/bench-*.log; do
		n=$(basename $f .log)
		grep -E "^\| (on|off)" $f | sed "s/^/| ${n#bench-} /"
		grep -q "^rc=0" $f || tail -3 $f | sed "s/^/${n#bench-}: /"
	done
	[ -f $OUT/sleep.log ] && sed 's/^/sleep: /' $OUT/sleep.log | tail -6
}

case "${1:-}" in
pack) pack ;;
run) run ;;
*) echo "usage: bash tests/device_check.sh pack|run" >&2; exit 2 ;;
esac
