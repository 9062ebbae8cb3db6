"""Uniform, heterogeneous (HGQ) and pruned + heterogeneous students of one teacher, side by side.

One AE teacher (adkit's defaults, 30 epochs on the embedded background). Each student is the
AXOL1TL v5 network (57-32-16-1, ap_fixed<14,6> inputs, 6-bit weights, distributed arithmetic)
distilled from it on the independent embedded background, 30 epochs, with:

- ``uniform``: one type per layer and kind (the AXOL1TL v5 preset);
- ``hgq``: every weight's bits and each hidden layer's result type learned in training against
  ``bit_cost`` × EBOPs (HGQ, with PQuantML's quantizer), the preset's types as containers;
- ``pruned + hgq``: the same with half of the hidden weights pruned by magnitude as well;
- ``axol1tl-v6``: the self-supervised network of ``--preset axol1tl-v6`` (57-32-16, a 3-number
  bottleneck decoded back to the 16-number representation, score the squared distance; 5-bit
  weights), trained on the same background alone, not on the teacher's score.

For each student: the A→4ℓ TPR at 1, 4 and 10 kHz (68.27 % Clopper–Pearson intervals) on
1,000,000 embedded test background events (25 above the 1 kHz threshold) and 100,000 signal
events, and the fraction of the teacher's TPR it keeps; then the bit-exact checks (da4ml's
adder graph on every held-out event, the Verilog under Verilator on 20,000) and the resources:
da4ml's estimate and Yosys ``synth_xilinx`` for UltraScale+ (out of context). The last lines give
each student's LUTs as a fraction of the uniform student's, from synthesis.

    python benchmarks/bench_compress.py [--quick]
"""
from __future__ import annotations

import argparse
import shutil
import tempfile
import time

import numpy as np

RATES_KHZ = (1.0, 4.0, 10.0)
SIGNAL = "Ato4l"
#: name: distill() settings of each student (all on the AXOL1TL preset's network and containers)
STUDENTS = {"uniform": {}, "hgq": {"quantization": "hgq", "bit_cost": 1e-6},
            "pruned + hgq": {"quantization": "hgq", "bit_cost": 1e-6, "sparsity": 0.5},
            "axol1tl-v6": {"kind": "selfsup", "v6": True, "lr": 1e-3}}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clock", type=float, default=6.25, help="clock period, ns")
    ap.add_argument("--part", default="xcvu13p-flga2577-2-e", help="FPGA part (its family goes to Yosys)")
    ap.add_argument("--quick", action="store_true", help="small sizes, no Yosys: checks that it runs (a test runs this)")
    args = ap.parse_args()
    import torch

    torch.set_num_threads(2)
    from adkit.datasets import embedded_test_set
    from adkit.distill.student import distill
    from adkit.firmware import da, rtlsim, yosys
    from adkit.metrics import efficiency_cell, evaluate_scores
    from adkit.workflows import train

    n_bkg, n_train, epochs, hidden = (20_000, 5_000, 2, (8,)) if args.quick else \
        (1_000_000, None, 30, tuple(da.AXOL1TL["hidden"]))
    n_rtl = 2_000 if args.quick else 20_000
    events = embedded_test_set(n_bkg)
    teacher = train("ae", epochs=epochs, n_default=n_train)
    t_scores = {k: teacher.score_components(teacher.spec.features.compute(o).astype(np.float32), None)["score"]
                for k, o in events.items()}
    ref = evaluate_scores(t_scores["background"], {SIGNAL: t_scores[SIGNAL]}, fprs=(), rates_khz=RATES_KHZ)
    print(f"teacher: AE, {epochs} epochs; {len(events['background'])} test background events, "
          f"{len(events[SIGNAL])} A→4ℓ events; students 57-{'-'.join(map(str, hidden))}-1, AXOL1TL v5 containers "
          f"({da.AXOL1TL['precision']['weight']} weights), {epochs} epochs; clock {args.clock} ns, Yosys family "
          f"{yosys.family(args.part)}")
    print("teacher A→4ℓ TPR at " + ", ".join(
        f"{r:g} kHz {efficiency_cell(ref['signals'][SIGNAL]['efficiency_at_rate_khz'][f'{r:g}'])}" for r in RATES_KHZ))
    rows = []
    for name, kw in STUDENTS.items():
        t0 = time.perf_counter()
        kw = dict(kw)
        precision = dict((da.AXOL1TL_V6 if kw.pop("v6", False) else da.AXOL1TL)["precision"])
        student, info = distill(teacher, [], hidden=hidden, epochs=epochs, n_default=n_train, precision=precision,
                                **kw)
        det = student.detector
        Z = {k: student.scaler.transform(student.spec.features.compute(o).astype(np.float32)) for k, o in events.items()}
        s_scores = {k: det.decision_function(z) for k, z in Z.items()}
        m = evaluate_scores(s_scores["background"], {SIGNAL: s_scores[SIGNAL]}, fprs=(), rates_khz=RATES_KHZ)
        comb = da.trace(det)
        differ = sum(int(np.count_nonzero(da.predict(comb, det, z) != s_scores[k])) for k, z in Z.items())
        checked = sum(len(z) for z in Z.values())
        est = da.estimate(comb, args.clock)
        c = info["cost"]
        types = ", ".join(f"{n} {v['result']}" for n, v in c["layers"].items() if n != "out")
        n_w = sum(v["shape"][0] * v["shape"][1] for v in c["layers"].values())
        print(f"\n{name}: {c['multiplications']} non-zero weights of {n_w}"
              f"; result types {types}{'; EBOPs ' + format(c['ebops'], ',') if 'ebops' in c else ''}; "
              f"trained in {time.perf_counter() - t0:.0f} s")
        cells, kept = [], []
        for r in RATES_KHZ:
            e = m["signals"][SIGNAL]["efficiency_at_rate_khz"][f"{r:g}"]
            t = ref["signals"][SIGNAL]["tpr_at_rate_khz"][f"{r:g}"]
            cells.append(f"{r:g} kHz {efficiency_cell(e)}")
            kept.append(m["signals"][SIGNAL]["tpr_at_rate_khz"][f"{r:g}"] / t if t > 0 else float("nan"))
        print("  A→4ℓ TPR at " + ", ".join(cells) + "; kept " + "/".join(f"{k:.2f}" for k in kept))
        print(f"  da4ml graph vs the quantized student: {differ} of {checked} held-out events differ")
        if differ:
            print("  the graph does not reproduce the student: stopping")
            return 1
        lut = None
        with tempfile.TemporaryDirectory() as tmp:
            meta = da.write_rtl(comb, tmp, args.clock)
            if shutil.which("verilator"):
                zb = Z["background"][:n_rtl]
                y, _ = rtlsim.simulate(tmp, comb, int(meta["metadata"]["latency"]), meta["top"],
                                       det.types()["input"]["result"].quantize(zb.astype(np.float64)))
                bad = int(np.count_nonzero(y != s_scores["background"][:n_rtl]))
                print(f"  Verilog ({meta['metadata']['latency']} cycles, Verilator): {bad} of {len(y)} differ")
                if bad:
                    return 1
            if args.quick:
                print(f"  da4ml estimate {est['lut']:,.0f} LUT, {est['ff']:,} FF; Yosys skipped (--quick)")
            else:
                s = yosys.synthesize(tmp, meta["top"], args.part)
                b = yosys.beside(est, s)
                lut = b["lut"]["synthesis"]
                print(f"  Yosys: {lut:,.0f} LUT, {b['ff']['synthesis']:,.0f} FF, {b['carry']['synthesis']:,.0f} carry, "
                      f"{b['dsp']['synthesis']:,.0f} DSP; da4ml estimate {est['lut']:,.0f} LUT, {est['ff']:,} FF")
        rows.append((name, lut, est["lut"], kept))
    base = rows[0]
    print("\nLUTs against the uniform student (Yosys; da4ml estimate in brackets), and kept A→4ℓ TPR at 1/4/10 kHz:")
    for name, lut, e, kept in rows:
        ratio = "-" if lut is None else f"{lut / base[1]:.2f}"
        print(f"  {name}: LUT ×{ratio} (×{e / base[2]:.2f}); kept " + "/".join(f"{k:.2f}" for k in kept))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
