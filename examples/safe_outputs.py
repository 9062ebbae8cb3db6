"""What adkit does with hostile inputs and unsafe outputs: one line, exit code 2, files untouched.

    python examples/safe_outputs.py [--small]

Runs the commands of docs/safety.md in a scratch directory (``safety_demo/``) and prints each
command with its exit code and the line adkit wrote; the docs page shows this output, and a
test checks that the page and the script agree. Every refused command leaves the directory's
files byte-identical (checked here too).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import shlex
import shutil
from pathlib import Path

from click.testing import CliRunner

from adkit.cli import main as adkit_main
from adkit.datasets import background, write_particles_h5
from adkit.workflows import train


def _tree(d: Path) -> dict[str, str]:
    return {str(f.relative_to(d)): hashlib.sha256(f.read_bytes()).hexdigest() for f in sorted(d.rglob("*"))
            if f.is_file() and not f.is_symlink()}


def run(command: str) -> tuple[int, str]:
    """Run one adkit command line in this process; (exit code, its last stderr line)."""
    r = CliRunner().invoke(adkit_main, shlex.split(command)[1:])
    lines = r.stderr.strip().splitlines()
    return r.exit_code, lines[-1] if lines else ""


def setup(work: Path, n: int) -> None:
    if work.exists():
        shutil.rmtree(work)
    work.mkdir()
    os.chdir(work)
    for run_dir, seed in (("run1", 1), ("run2", 2)):
        Path(run_dir).mkdir()
        write_particles_h5(Path(run_dir) / "nano_1.h5", background(n, seed)[0])
    shutil.copy("run1/nano_1.h5", "data.h5")
    os.symlink("data.h5", "alias.h5")
    train("ae", epochs=1, n_default=n, seed=0).save("model.adkit")
    Path("analysis").mkdir()
    Path("analysis/thesis.tex").write_text("years of work\n")
    Path("cut.yaml").write_text("cut: 'MET_pt ** 99999999 > 1'\n")
    Path("sensor.csv").write_text("timestamp,value,is_anomaly\n0,1.0,0\n1,1.1,2\n")
    import zipfile

    import numpy as np
    from safetensors.numpy import load, save

    with zipfile.ZipFile("model.adkit") as z:
        manifest, tensors = z.read("manifest.json"), load(z.read("tensors.safetensors"))
    clean = dict(tensors)
    first = sorted(k for k in tensors if k.startswith("detector.") and tensors[k].ndim == 2)[0]
    tensors[first] = tensors[first] * np.nan
    with zipfile.ZipFile("damaged.adkit", "w") as z:
        z.writestr("manifest.json", manifest)
        z.writestr("tensors.safetensors", save(tensors))
    wide = json.loads(manifest)  # a 4 kB file asking for two layers of 65,536 units (16 GiB of weights)
    wide["detector"]["config"]["params"]["hidden"] = [65536, 65536]
    with zipfile.ZipFile("wide.adkit", "w") as z:
        z.writestr("manifest.json", json.dumps(wide))
        z.writestr("tensors.safetensors", save(clean))
    import h5py  # a virtual dataset: its data lives in data.h5, which is therefore an input too

    with h5py.File("data.h5", "r") as f:
        shape, dtype = f["Particles"].shape, f["Particles"].dtype
    layout = h5py.VirtualLayout(shape=shape, dtype=dtype)
    layout[:] = h5py.VirtualSource("data.h5", "Particles", shape=shape)
    with h5py.File("virtual.h5", "w") as f:
        f.create_virtual_dataset("Particles", layout)
    laughs = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    laughs += [f"{c}: &{c} [{', '.join([f'*{b}'] * 9)}]" for b, c in zip("abcdefgh", "bcdefghi")]
    Path("laughs.yaml").write_text("\n".join(laughs) + "\nparams: {hidden: *i}\n")


REFUSED = [
    "adkit score data.h5 --model model.adkit -o data.h5 --overwrite",
    "adkit score data.h5 --model model.adkit -o alias.h5 --overwrite",
    "adkit train --detector ae --data data.h5 -o data.h5 --overwrite",
    "adkit distill --teacher model.adkit --hls-dir . --overwrite",
    "adkit distill --teacher model.adkit --hls-dir analysis --overwrite",
    "adkit score data.h5 --model damaged.adkit -o s.h5",
    "adkit score data.h5 --model /dev/zero -o s.h5",
    "adkit score data.h5 --model model.adkit -o s.h5 --mapping cut.yaml",
    "adkit evaluate --model model.adkit --background data.h5 --signal x=data.h5 --rates -1",
    "adkit train --detector ae --data data.h5 -o new.adkit --param latent_dim=0",
    "adkit train --detector ae --data data.h5 -o new.adkit --features ,",
    "adkit score data.h5 --model model.adkit -o s.h5 --step 0",
    "adkit score run1/nano_1.h5 run1/nano_1.h5 --model model.adkit -o scores",
    "adkit score data.h5 ./data.h5 --model model.adkit -o s.h5",
    "adkit score virtual.h5 --model model.adkit -o data.h5 --overwrite",
    "adkit show wide.adkit",
    "adkit train --config laughs.yaml -o new.adkit",
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--small", action="store_true", help="fewer events (the output is the same)")
    args = ap.parse_args()
    home = Path.cwd()
    setup(home / "safety_demo", 2000 if args.small else 5000)
    try:
        print("# refused: one line, exit code 2, no file changed")
        for cmd in REFUSED:
            before = _tree(Path("."))
            code, line = run(cmd)
            assert code == 2 and _tree(Path(".")) == before, (cmd, code, line)
            print(f"$ {cmd}\n{line}\n")
        print("# inputs with the same name in different directories")
        cmd = "adkit score run1/nano_1.h5 run2/nano_1.h5 --model model.adkit -o scores"
        code, line = run(cmd)
        assert code == 0, line
        print(f"$ {cmd}\n" + "\n".join(str(p) for p in sorted(Path("scores").rglob("*.h5"))))
    finally:
        os.chdir(home)


if __name__ == "__main__":
    main()
