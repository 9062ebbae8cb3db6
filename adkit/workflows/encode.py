"""Write latent spaces: events → the few coordinates quantum and tensor-network detectors work in.

An encoder is a trained adkit model whose detector has an ``encode`` method (the dense AE:
``adkit train --detector ae --param latent_dim=8``). :meth:`adkit.artifact.Model.encode` applies
its preprocessing and encoder to raw events. A latent-space detector trained with
``--encoder`` stores that model inside its own file and scores raw events directly.

:func:`encode_files` writes the latent space of files as an HDF5 table (dataset ``latent``
with its column names, plus ``source`` and ``entry`` per event), which adkit reads back as a
table, e.g. to train on it or to look at it.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from adkit.artifact import Model
from adkit.io import DEFAULT_STEP, Mapping, open_reader, reader_batches
from adkit.io.writers import atomic_output


def encode_files(model: Model, paths: Sequence[str | Path], output: str | Path, *, mapping: Mapping | None = None,
                 step: int = DEFAULT_STEP, nan_policy: str = "reject", overwrite: bool = False) -> dict:
    """Encode every event of ``paths`` with ``model``'s encoder into the HDF5 file ``output``."""
    import h5py

    model.encode(np.zeros((1, model.n_features), dtype=np.float32))  # an encoder, or a clear error
    mapping = model.input_spec(mapping).mapping
    readers = [open_reader(p, mapping) for p in paths]
    n = dim = 0
    with atomic_output(output, overwrite) as tmp, h5py.File(tmp, "w") as h5:
        h5.create_dataset("sources", data=np.array([r.path for r in readers], dtype=object),
                          dtype=h5py.string_dtype())
        lat = src = ent = None
        for i, reader in enumerate(readers):
            for batch in reader_batches(reader, model.spec, step=step, nan_policy=nan_policy):
                z = model.encode(batch.features)
                if lat is None:
                    dim = z.shape[1]
                    lat = h5.create_dataset("latent", shape=(0, z.shape[1]), maxshape=(None, z.shape[1]),
                                            dtype="f4", chunks=(min(65536, max(len(z), 1)), z.shape[1]))
                    lat.attrs["columns"] = [f"z{j}" for j in range(z.shape[1])]
                    src = h5.create_dataset("source", shape=(0,), maxshape=(None,), dtype="i4", chunks=(65536,))
                    ent = h5.create_dataset("entry", shape=(0,), maxshape=(None,), dtype="i8", chunks=(65536,))
                m = len(z)
                for ds, v in ((lat, z), (src, np.full(m, i, dtype=np.int32)), (ent, batch.entry)):
                    ds.resize((n + m, *ds.shape[1:]))
                    ds[n:] = v
                n += m
        h5.attrs["adkit_model"] = str(model.provenance.get("model_path", ""))
        h5.attrs["encoder"] = model.detector.name
    return {"output": str(output), "events": n, "latent_dim": dim, "columns": [f"z{j}" for j in range(dim)]}


def encode_command(*, files, model_path, output, overwrite, mapping, nan_policy, step, say) -> dict:
    """``adkit encode``: the latent space of files under a model's encoder, as an HDF5 table."""
    from adkit.workflows.config import mapping_from

    s = encode_files(Model.load(model_path), files, output, mapping=mapping_from(mapping), step=step,
                     nan_policy=nan_policy, overwrite=overwrite)
    say(f"wrote {output}: {s['events']} events x {s['latent_dim']} latent dimensions "
        f"({', '.join(s['columns'])}) from {len(files)} file(s)")
    return s
