#!/usr/bin/env python3
"""ncu_summary.py CSV STEPS: per-kernel GPU time of the last of STEPS decode
steps from `ncu --csv --page raw` (tests/device_check.sh), grouped by kernel
name in launch order, with DRAM bytes and the achieved bandwidth."""
import csv, sys, collections

rows = list(csv.reader(l for l in open(sys.argv[1]) if l.startswith('"')))
steps = int(sys.argv[2])
head, units, data = rows[0], rows[1], rows[2:]
col = {n: i for i, n in enumerate(head)}
def val(r, n):
    try:
        return float(r[col[n]].replace(',', ''))
    except (KeyError, ValueError):
        return 0.0
t_unit = units[col['gpu__time_duration.sum']]
tscale = {'nsecond': 1e-3, 'ns': 1e-3, 'usecond': 1.0, 'us': 1.0, 'msecond': 1e3, 'ms': 1e3}.get(t_unit)
if tscale is None:
    sys.exit(f'ncu_summary: unknown time unit {t_unit!r}')
b_unit = units[col['dram__bytes_read.sum']]
bscale = {'byte': 1, 'B': 1, 'Kbyte': 1e3, 'KB': 1e3, 'Mbyte': 1e6, 'MB': 1e6, 'Gbyte': 1e9, 'GB': 1e9}.get(b_unit)
if bscale is None:
    sys.exit(f'ncu_summary: unknown byte unit {b_unit!r}')
per = len(data) // steps
last = data[len(data) - per:]
agg = collections.OrderedDict()
for r in last:
    name = r[col['Kernel Name']].split('(')[0][:60]
    a = agg.setdefault(name, [0, 0.0, 0.0, r[col['launch__grid_size']], r[col['launch__registers_per_thread']],
                              []])
    a[0] += 1
    a[1] += val(r, 'gpu__time_duration.sum') * tscale
    a[2] += val(r, 'dram__bytes_read.sum') * bscale
    a[5].append(val(r, 'sm__warps_active.avg.pct_of_peak_sustained_active'))
tot = sum(a[1] for a in agg.values())
byt = sum(a[2] for a in agg.values())
print(f"{len(data)} kernels profiled, {per} in the last step: {tot:.0f} us GPU time, {byt/1e9:.3f} GB "
      f"({byt/tot/1e6 if tot else 0:.2f} TB/s)")
print(f"{'kernel':60s} {'n':>5s} {'us':>8s} {'us/each':>8s} {'MB':>8s} {'TB/s':>6s} {'grid':>7s} {'regs':>4s} {'occ%':>5s}")
for name, a in sorted(agg.items(), key=lambda kv: -kv[1][1]):
    occ = sum(a[5]) / len(a[5]) if a[5] else 0
    print(f"{name:60s} {a[0]:5d} {a[1]:8.1f} {a[1]/a[0]:8.2f} {a[2]/1e6:8.2f} "
          f"{a[2]/a[1]/1e6 if a[1] else 0:6.2f} {a[3]:>7s} {a[4]:>4s} {occ:5.1f}")
print("\nthe first 60 launches of that step, in order (layer 0 is dense, layer 1 the first MoE layer):")
for i, r in enumerate(last[:60]):
    print(f"{i:3d} {r[col['Kernel Name']].split('(')[0][:60]:60s} {val(r, 'gpu__time_duration.sum') * tscale:8.2f} us "
          f"{val(r, 'dram__bytes_read.sum') * bscale / 1e6:8.3f} MB grid {r[col['launch__grid_size']]}")
