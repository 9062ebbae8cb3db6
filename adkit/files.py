"""Safe files: what adkit read and how it writes, so that a user's file is never harmed.

Every file adkit reads (data, model, teacher, config, mapping) is *noted* in the current
:func:`input_scope` (one per command): a snapshot of its real path, inode, size and
modification time. Every output goes through :func:`check_output` and
:func:`atomic_output`, which refuse an output that resolves to a noted input (symlinks, hard
links), a special file or, without ``overwrite``, an existing file; they write under a
temporary name, check that no input changed while it was read, and publish with a rename
that never replaces a file that appeared in the meantime (``renameat2(RENAME_NOREPLACE)``,
else ``link`` + ``unlink``). Directories are replaced only when adkit made them and they
hold nothing adkit did not write (:func:`check_replace_dir`).
"""
from __future__ import annotations

import contextlib
import ctypes
import errno
import glob
import json
import os
import shutil
import socket
import stat
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path

from adkit.errors import AdkitError, InputError, OutputError

#: The stamp file in a directory adkit made; it lists the files adkit wrote there.
STAMP = ".adkit-made.json"
#: Free bytes below which a write is refused before it starts.
MIN_FREE_BYTES = 1 << 20


@dataclass(frozen=True)
class Snapshot:
    """An input file as it was when adkit first read it."""

    path: str
    real: str
    dev: int
    ino: int
    size: int
    mtime_ns: int

    @classmethod
    def take(cls, path: str | Path) -> Snapshot:
        st = os.stat(path)
        return cls(str(path), os.path.realpath(path), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)

    def changed(self) -> bool:
        try:
            st = os.stat(self.real)
        except OSError:
            return True
        return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns) != (self.dev, self.ino, self.size, self.mtime_ns)

    def same_file(self, path: str | Path) -> bool:
        """Whether ``path`` is this input: the same real path, or the same inode (a hard link)."""
        if os.path.realpath(path) == self.real:
            return True
        try:
            st = os.stat(path)
        except OSError:
            return False
        return (st.st_dev, st.st_ino) == (self.dev, self.ino)


_inputs: ContextVar[dict[str, Snapshot] | None] = ContextVar("adkit_inputs", default=None)


@contextlib.contextmanager
def input_scope() -> Iterator[dict[str, Snapshot]]:
    """The inputs of one command or library call; nested scopes share the outermost one."""
    current = _inputs.get()
    if current is not None:
        yield current
        return
    token = _inputs.set({})
    try:
        yield _inputs.get()
    finally:
        _inputs.reset(token)


def _kind(mode: int) -> str | None:
    for test, name in ((stat.S_ISFIFO, "FIFO (named pipe)"), (stat.S_ISCHR, "character device"),
                       (stat.S_ISBLK, "block device"), (stat.S_ISSOCK, "socket")):
        if test(mode):
            return name
    return None


def note_input(path: str | Path, what: str = "input", remember: bool = True, via: str | Path | None = None) -> Path:
    """Refuse special files; remember a regular file as an input of the current scope. ``via``: the input
    that reads this one. The files an input reads through (HDF5 links) are the io layer's to follow:
    :func:`adkit.io.inputs.note_input` notes them too."""
    p = Path(path)
    try:
        st = os.stat(p)
    except OSError:
        return p  # the caller reports a missing file in its own words
    kind = _kind(st.st_mode)
    if kind:
        raise InputError(f"{p}: is a {kind}, not a regular file; give a regular {what} file")
    if not stat.S_ISREG(st.st_mode):
        return p
    scope = _inputs.get()
    real = os.path.realpath(p)
    first = scope is None or real not in scope
    if remember and scope is not None and first:
        name = str(p) if via is None else f"{p} (read through {via})"
        scope[real] = Snapshot(name, real, st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
    return p


def check_distinct(paths, what: str = "input") -> None:
    """Refuse the same file given twice in one list (by real path or inode: ``Z.h5 ./Z.h5``, links):
    its events would be counted twice."""
    seen: dict[tuple, str] = {}
    for p in paths:
        try:
            st = os.stat(p)
            key = (st.st_dev, st.st_ino)
        except OSError:
            key = (os.path.realpath(p),)
        if key in seen:
            raise InputError(f"{p} and {seen[key]} are the same file; give each {what} once (its events would "
                             "count twice)")
        seen[key] = str(p)


def noted_inputs() -> list[Snapshot]:
    return list((_inputs.get() or {}).values())


def input_for(path: str | Path) -> Snapshot | None:
    """The noted input that ``path`` resolves to, if any."""
    return next((s for s in noted_inputs() if s.same_file(path)), None)


def check_inputs_unchanged() -> None:
    """Raise if a noted input changed (size, mtime or inode) since adkit first read it."""
    for s in noted_inputs():
        if s.changed():
            raise InputError(f"{s.path}: changed while adkit was reading it (size or modification time differ); "
                             "nothing was written; run again once the file is complete")


def check_output(path: str | Path, overwrite: bool = False, *, updates: Snapshot | None = None) -> Path:
    """Fail before any work if ``path`` cannot be this command's output.

    Refused: an input of this command (whatever ``overwrite`` says), a directory, a special
    file, an existing file without ``overwrite``, a missing or read-only parent directory.
    ``updates`` names the one input this output is allowed to replace (a model updated in place).
    """
    p = Path(path)
    same = input_for(p)
    if same is not None and (updates is None or same.real != updates.real):
        raise OutputError(f"{p}: is the input {same.path}; adkit never writes over its inputs; choose another output")
    if p.is_dir():
        raise OutputError(f"{p}: is a directory; give a file name for the output")
    if p.exists() or p.is_symlink():
        try:
            kind = _kind(os.stat(p).st_mode)
        except OSError:
            kind = "broken symbolic link"
        if kind:
            raise OutputError(f"{p}: is a {kind}; give a regular file name for the output")
        if not overwrite and updates is None:
            raise OutputError(f"{p}: already exists; pass --overwrite to replace it")
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.is_dir():
        raise OutputError(f"{p}: directory {parent} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(f"{p}: directory {parent} is not writable")
    return p


# --- publishing -------------------------------------------------------------------------------------

_AT_FDCWD, _RENAME_NOREPLACE = -100, 1


def _renameat2():
    try:
        fn = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return None
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    fn.restype = ctypes.c_int
    return fn


def rename_noreplace(src: str | Path, dst: str | Path) -> None:
    """Rename ``src`` to ``dst`` only if ``dst`` does not exist, atomically; FileExistsError otherwise."""
    fn = _renameat2()
    if fn is not None:
        if fn(_AT_FDCWD, os.fsencode(src), _AT_FDCWD, os.fsencode(dst), _RENAME_NOREPLACE) == 0:
            return
        err = ctypes.get_errno()
        if err == errno.EEXIST:
            raise FileExistsError(err, os.strerror(err), str(dst))
        if err not in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EPERM):
            raise OSError(err, os.strerror(err), str(dst))
    if Path(src).is_dir():  # file systems without renameat2: a small window remains for directories
        if os.path.lexists(dst):
            raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), str(dst))
        os.rename(src, dst)
        return
    os.link(src, dst)  # fails with EEXIST, atomically, if dst appeared
    os.unlink(src)


_ERRNO_TEXT = {errno.ENOSPC: "no space left on device", errno.EDQUOT: "disk quota exceeded",
               errno.EROFS: "read-only file system", errno.EACCES: "permission denied",
               errno.EPERM: "operation not permitted", errno.EIO: "input/output error",
               errno.EFBIG: "file too large"}
_TEXT_ERRNO = {"no space left": errno.ENOSPC, "quota exceeded": errno.EDQUOT, "read-only file system": errno.EROFS,
               "permission denied": errno.EACCES, "input/output error": errno.EIO, "file too large": errno.EFBIG}


def free_bytes(directory: str | Path) -> int | None:
    try:
        st = os.statvfs(directory)
    except OSError:
        return None
    return st.f_bavail * st.f_frsize


def write_error(exc: BaseException, path: str | Path) -> OutputError | None:
    """One-line error for an OS failure while writing ``path`` (disk full, read-only, I/O), else None."""
    if isinstance(exc, AdkitError) or not isinstance(exc, (OSError, RuntimeError, ValueError)):
        return None
    code = getattr(exc, "errno", None)
    text = str(exc).lower()
    if code not in _ERRNO_TEXT:
        code = next((c for words, c in _TEXT_ERRNO.items() if words in text), None)
        code = code or next((c for c in _ERRNO_TEXT if f"errno = {c}," in text or f"errno {c}" in text), None)
    if code is None:
        free = free_bytes(Path(path).parent or ".")
        if free is not None and free < 64 * 1024:
            code = errno.ENOSPC
    if code is None:
        return None
    return OutputError(f"{_ERRNO_TEXT[code]} writing {path}; nothing was left under that name")


def require_space(directory: str | Path, needed: int = 0, target: str | Path | None = None) -> None:
    """Refuse to start a write that cannot fit (leaves libraries such as HDF5 no disk-full path)."""
    free = free_bytes(directory)
    if free is not None and free < needed + MIN_FREE_BYTES:
        raise OutputError(f"no space left on device writing {target or directory} ({free} bytes free, about "
                          f"{needed + MIN_FREE_BYTES} needed)")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def short_name(name: str, room: int = 160) -> str:
    """``name`` itself, or, when it is longer than ``room`` bytes, its start and a hash of the whole: a
    temporary name built on it stays under the 255 bytes a file system allows."""
    if len(os.fsencode(name)) <= room:
        return name
    import hashlib

    digest = hashlib.sha256(os.fsencode(name)).hexdigest()[:16]
    cut = name
    while len(os.fsencode(cut)) > room - 17:
        cut = cut[:-1]
    return f"{cut}~{digest}"


def partial_path(target: str | Path) -> Path:
    """The temporary name of ``target`` while this process writes it: ``.NAME.partial-HOST-PID`` (a long
    NAME shortened by :func:`short_name`)."""
    t = Path(target)
    return t.with_name(f".{short_name(t.name)}.partial-{socket.gethostname()[:40]}-{os.getpid()}")


def remove_stale_partials(target: str | Path) -> list[Path]:
    """Remove the ``.NAME.partial-HOST-PID`` leftovers of ``target`` whose process is gone (killed runs).

    Only this host's: on a shared file system another machine's live writer is never touched.
    """
    t = Path(target)
    removed = []
    for q in t.parent.glob(f".{glob.escape(short_name(t.name))}.partial-*"):
        tag = q.name.rsplit(".partial-", 1)[-1]
        host, _, pid = tag.rpartition("-")
        if host not in ("", socket.gethostname()[:40]) or not pid.isdigit() or int(pid) == os.getpid() \
                or _alive(int(pid)):
            continue
        with contextlib.suppress(OSError):
            shutil.rmtree(q) if q.is_dir() and not q.is_symlink() else q.unlink()
            removed.append(q)
    return removed


def _remove(p: Path) -> None:
    with contextlib.suppress(OSError):
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p)
        elif os.path.lexists(p):
            p.unlink()


def publish(tmp: Path, target: Path, overwrite: bool, updates: Snapshot | None = None) -> None:
    """Move a finished temporary file into place, checking inputs and the target at that moment."""
    if updates is not None:
        if updates.changed():
            raise OutputError(f"{updates.path}: changed since adkit read it (another run wrote it?); not updated, "
                              "so that the newer file is kept; run the command again")
        check_inputs_unchanged()
        os.replace(tmp, target)
        return
    check_inputs_unchanged()
    same = input_for(target)
    if same is not None:  # checked again at the last moment: inputs found while reading count too
        raise OutputError(f"{target}: is the input {same.path}; adkit never writes over its inputs; choose another "
                          "output")
    if overwrite:
        if target.is_dir():
            raise OutputError(f"{target}: is a directory; give a file name for the output")
        os.replace(tmp, target)
    else:
        try:
            rename_noreplace(tmp, target)
        except FileExistsError:
            raise OutputError(f"{target}: appeared while this run was writing (another run?); it was kept and "
                              "this output dropped; pass --overwrite to replace it") from None


@contextlib.contextmanager
def atomic_output(path: str | Path, overwrite: bool = False, *, updates: Snapshot | None = None,
                  expected_bytes: int = 0) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; publish it only if the block succeeds.

    A failed or interrupted write leaves nothing under the final name and removes the
    temporary file; a killed process's ``.NAME.partial-PID`` is removed by the next run. OS
    failures (disk full, read-only, I/O) become one :class:`OutputError` line. ``updates`` is
    the snapshot of the input this output replaces in place (a symlink: its target is updated).
    """
    p = check_output(path, overwrite, updates=updates)
    target = Path(os.path.realpath(p)) if updates is not None or (overwrite and p.is_symlink()) else p
    remove_stale_partials(target)
    require_space(target.parent if str(target.parent) else ".", expected_bytes, target)
    tmp = partial_path(target)
    try:
        yield tmp
        publish(tmp, target, overwrite, updates)
    except BaseException as e:
        _remove(tmp)
        err = write_error(e, p)
        if err is not None:
            raise err from None
        raise


# --- directories adkit owns ---------------------------------------------------------------------------

def _listing(d: Path) -> list[str]:
    return sorted(str(f.relative_to(d)) for f in d.rglob("*") if f.name != STAMP and not f.is_dir())


def mark_owned(d: str | Path) -> None:
    """Stamp a directory adkit just made with the list of the files it wrote there."""
    d = Path(d)
    (d / STAMP).write_text(json.dumps({"format": "adkit-made", "files": _listing(d)}))


def owned(d: Path) -> tuple[bool, str]:
    """(True, "") when ``d`` is a directory adkit made and holds only files adkit wrote; else (False, why)."""
    try:
        doc = json.loads((d / STAMP).read_text())
        files = set(doc["files"])
    except (OSError, ValueError, KeyError, TypeError):
        return False, f"it has no valid {STAMP} stamp (adkit did not make it)"
    foreign = [f for f in _listing(d) if f not in files]
    if foreign:
        return False, f"it holds files adkit did not write there (e.g. {foreign[0]})"
    return True, ""


def _inside(child: str, parent: str) -> bool:
    return child == parent or child.startswith(parent.rstrip(os.sep) + os.sep)


def check_replace_dir(d: str | Path, overwrite: bool, option: str) -> Path:
    """Fail before any work unless ``d`` may become an output directory that adkit (re)builds."""
    p = Path(d)
    real = os.path.realpath(p)
    if _inside(os.path.realpath(os.getcwd()), real) or real == os.sep:
        raise OutputError(f"{option} {d}: is the working directory or one of its parents; give a new directory")
    held = next((s for s in noted_inputs() if _inside(s.real, real)), None)
    if held is not None:
        raise OutputError(f"{option} {d}: holds the input {held.path}; give a new directory")
    if p.is_symlink():
        raise OutputError(f"{option} {d}: is a symbolic link; give a directory name")
    check_writable(p.parent if str(p.parent) else Path("."), option)  # built beside it, renamed into place
    if not p.exists():
        return p
    if not p.is_dir():
        raise OutputError(f"{option} {d}: exists and is not a directory")
    if not any(p.iterdir()):
        return p
    if not overwrite:
        raise OutputError(f"{option} {d}: exists and is not empty; pass --overwrite (it replaces only a directory "
                          "adkit made) or give another directory")
    ok, why = owned(p)
    if not ok:
        raise OutputError(f"{option} {d}: not replaced: {why}; give another directory")
    return p


def replace_dir(tmp: Path, dest: Path, overwrite: bool, option: str) -> None:
    """Publish the finished directory ``tmp`` as ``dest`` (checked again, at this moment)."""
    check_inputs_unchanged()
    mark_owned(tmp)
    old = None
    if dest.exists():
        check_replace_dir(dest, overwrite, option)
        if not any(dest.iterdir()):
            dest.rmdir()
        else:
            old = dest.with_name(f".{short_name(dest.name)}.old-{os.getpid()}")
            os.rename(dest, old)
    try:
        rename_noreplace(tmp, dest)
    except FileExistsError:
        if old is not None and not os.path.lexists(dest):
            os.rename(old, dest)  # put the previous directory back
        raise OutputError(f"{option} {dest}: appeared while this run was writing; kept, and this output dropped") \
            from None
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


@contextlib.contextmanager
def staged_dir(dest: str | Path, overwrite: bool, option: str) -> Iterator[Path]:
    """A temporary directory beside ``dest`` to build an output directory in: published as ``dest``
    (:func:`replace_dir`) when the block succeeds, removed in any case (it is adkit's own)."""
    dest = Path(dest)
    remove_stale_partials(dest)
    tmp = partial_path(dest)
    try:
        yield tmp
        replace_dir(tmp, dest, overwrite, option)
    finally:
        if tmp.is_dir() and not tmp.is_symlink():
            shutil.rmtree(tmp, ignore_errors=True)


def read_text(path: str | Path, what: str, limit: int = 16 << 20) -> str:
    """A small UTF-8 text input (config, mapping), noted as an input; one-line errors otherwise."""
    from adkit.errors import ConfigError

    p = existing_input(path, what, f"a {what} file", ConfigError, f"{what} file not found")
    if p.stat().st_size > limit:
        raise ConfigError(f"{p}: {what} file is larger than {limit >> 20} MiB")
    try:
        return p.read_bytes().decode("utf-8")
    except UnicodeDecodeError as e:
        raise ConfigError(f"{p}: {what} file is not UTF-8 text (byte {e.start}); save it as UTF-8") from None
    except OSError as e:
        raise ConfigError(f"{p}: cannot read the {what} file ({e.strerror})") from None


def check_writable(d: str | Path, option: str = "-o") -> None:
    """Refuse, before any work, an output directory that cannot be written or made: the directory if it
    exists, else its parent (read-only, immutable or not ours: ``access`` says so even for root)."""
    d = Path(d)
    base = d if d.is_dir() else (d.parent if str(d.parent) else Path("."))
    if not base.is_dir():
        raise OutputError(f"{option} {d}: directory {base} does not exist")
    if not os.access(base, os.W_OK | os.X_OK):
        raise OutputError(f"{option} {d}: directory {base} is not writable (read-only, immutable or another "
                          "user's); choose another directory")


def check_outputs(directory: str | Path, names: list[str], overwrite: bool, option: str = "-o") -> Path:
    """Check every file a command will write into ``directory`` before any is written."""
    d = Path(directory)
    if d.exists() and not d.is_dir():
        raise OutputError(f"{option} {d}: exists and is not a directory")
    check_writable(d, option)
    for n in names:
        p = d / n
        if d.is_dir():
            check_output(p, overwrite)
        elif input_for(p) is not None:
            raise OutputError(f"{p}: is the input {input_for(p).path}; choose another {option}")
    return d


def sha256_file(path: str | Path, block: int = 1 << 20) -> str:
    """sha256 of a whole file, read in blocks into one reused buffer (provenance, and the keys of
    reusable work); hashlib lets other threads run meanwhile."""
    import hashlib

    h = hashlib.sha256()
    buf = bytearray(block)
    view = memoryview(buf)
    with open(path, "rb", buffering=0) as fh:
        while n := fh.readinto(view):
            h.update(view[:n])
    return h.hexdigest()


def existing_input(path: str | Path, role: str, instead: str, error: type[AdkitError] = InputError,
                   missing: str = "no such file") -> Path:
    """An input file that exists and is not a directory (``instead``: what to give instead of a
    directory), noted in the command's input scope; ``error`` with one line otherwise."""
    p = Path(path)
    if not p.exists():
        raise error(f"{p}: {missing}")
    if p.is_dir():
        raise error(f"{p}: is a directory; give {instead}")
    note_input(p, role)
    return p
