"""Firmware without synthesis: DA (da4ml) and Latency (rule4ml) estimates per design, the RTL
simulated with Verilator.

For the default student (57-32-16-1, 8-bit weights) and the AXOL1TL v5 preset (57-32-16-1,
6-bit weights), both with round-half-up types and distilled from an AE trained on the embedded
background: first checks that da4ml's adder graph reproduces the quantized student on every
held-out event, then times the DA estimate (trace + cost model + pipelining) and rule4ml's
estimate of the same student as an hls4ml Latency design (on the VU9P), writes the Verilog,
verilates it with adkit's testbench and streams the held-out events through it, counting the
events that differ from the quantized student. One run; no synthesis tool is used.

    python benchmarks/bench_firmware.py [--events 100000] [--quick]
"""
from __future__ import annotations

import argparse
import shutil
import tempfile
import time

import numpy as np


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=100_000, help="held-out background events simulated")
    ap.add_argument("--clock", type=float, default=6.25, help="clock period, ns")
    ap.add_argument("--quick", action="store_true", help="small sizes, to check that it runs (a test runs this)")
    args = ap.parse_args()
    from adkit.datasets import embedded_test_set
    from adkit.distill.student import distill
    from adkit.firmware import da, rtlsim
    from adkit.firmware.budget import budget
    from adkit.firmware.estimate import latency_estimate
    from adkit.workflows import train

    n_train, epochs, events = (5000, 1, 2000) if args.quick else (None, 30, args.events)
    teacher = train("ae", epochs=epochs, n_default=n_train)
    held = embedded_test_set(max(events, 1000), [])["background"][:events]
    designs = {"default student": (da.DA_PRECISION, (32, 16)),
               "AXOL1TL preset": (da.AXOL1TL["precision"], tuple(da.AXOL1TL["hidden"]))}
    if args.quick:  # one small design: checks that every step runs
        designs = {"AXOL1TL precisions, 57-8-1 (quick)": (da.AXOL1TL["precision"], (8,))}
    print(f"teacher: AE, {epochs} epochs; {events} held-out background events; clock {args.clock} ns")
    for name, (precision, hidden) in designs.items():
        student, _ = distill(teacher, [], hidden=hidden, epochs=2 if args.quick else 30, precision=precision)
        det = student.detector
        Z = student.scaler.transform(student.spec.features.compute(held).astype(np.float32))
        ref = det.decision_function(Z)
        t0 = time.perf_counter()
        comb = da.trace(det)
        est = da.estimate(comb, args.clock)
        t_est = time.perf_counter() - t0
        graph = da.predict(comb, det, Z)
        differ = int(np.count_nonzero(graph != ref))
        print(f"{name}: {sum(w.size for w, _ in det.quantized_weights().values())} weights; da4ml graph vs quantized "
              f"student: {differ} of {len(ref)} differ")
        if differ:
            print("  the graph does not reproduce the student: stopping")
            return 1
        b = budget(est, "xcvu9p")
        print(f"  estimate ({est['method']}) in {t_est:.2f} s: {est['lut']:.0f} LUT ({b['fraction']['lut']:.2%} of "
              f"xcvu9p), {est['ff']} FF, {est['dsp']} DSP, {est['cycles']} cycles = {b['latency_ns']:g} ns "
              f"({'fits' if b['fits_latency'] else 'does not fit'} 2 bunch crossings)")
        t0 = time.perf_counter()
        lat = latency_estimate(det, "xcvu9p", args.clock)
        t_lat = time.perf_counter() - t0
        if lat["method"]:
            bl = budget(lat, "xcvu9p")
            print(f"  Latency-strategy (hls4ml) estimate ({lat['method']}; {lat['error']}) in {t_lat:.2f} s: "
                  f"{lat['lut']:,.0f} LUT, {lat['ff']:,.0f} FF, {lat['dsp']:,.0f} DSP, {lat['cycles']} cycles at "
                  f"{lat['clock_ns']:g} ns = {bl['latency_ns']:g} ns")
            print(f"  DA / Latency: LUT {est['lut'] / max(lat['lut'], 1):.2f}, DSP {est['dsp']} vs {lat['dsp']:,.0f}, "
                  f"latency {b['latency_ns']:g} ns vs {bl['latency_ns']:g} ns")
        else:
            print(f"  Latency-strategy (hls4ml) estimate: none ({lat['why']})")
        if shutil.which("verilator") is None:
            print("  RTL simulation: Verilator is not installed (apt-get install verilator)")
            continue
        with tempfile.TemporaryDirectory() as tmp:
            meta = da.write_rtl(comb, tmp, args.clock)
            Zq = det.types()["input"]["result"].quantize(Z.astype(np.float64))
            t0 = time.perf_counter()
            y, rate = rtlsim.simulate(tmp, comb, int(meta["metadata"]["latency"]), meta["top"], Zq)
            t_all = time.perf_counter() - t0
            print(f"  RTL ({meta['metadata']['latency']} cycles): verilate + build + run {t_all:.1f} s; simulation "
                  f"{rate:,.0f} events/s; {int(np.count_nonzero(y != ref))} of {len(y)} events differ from the "
                  "quantized student")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
