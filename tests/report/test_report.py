"""The report: self-contained, every section present or marked missing, checked in headless Chromium."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess

from reram.config import config_to_toml
from reram.report import render_report
from reram_testing import missing

PROBE = """<script>
var reramErrors = [];
window.addEventListener("error", function (e) { reramErrors.push(String(e.message || e)); });
window.addEventListener("load", function () {
  var imgs = Array.prototype.slice.call(document.images);
  var broken = imgs.filter(function (i) { return !(i.complete && i.naturalWidth > 0); })
                   .map(function (i) { return i.alt; });
  var d = document.createElement("pre"); d.id = "reram-probe";
  d.textContent = JSON.stringify({images: imgs.length, broken: broken, errors: reramErrors});
  document.body.appendChild(d);
});
</script></body>"""


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def test_report_is_self_contained(small_full_run):
    html = (small_full_run.run_dir / "report.html").read_text()
    assert not re.search(r'(src|href)\s*=\s*"(https?:)?//', html)
    assert "<script" not in html and "<link" not in html
    for section in ("summary", "training", "ablation", "sensitivity", "adc", "conductance", "irdrop", "confusion",
                    "cosim", "energy", "config"):
        assert f'id="{section}"' in html
    pngs = {p.name for p in (small_full_run.run_dir / "report").glob("*.png")}
    assert {"training.png", "ablation.png", "adc.png", "conductance.png", "confusion.png", "energy.png",
            "tops.png", "area.png", "sensitivity.png", "irdrop.png"} <= pngs
    assert "1 ohm per wire segment (1 ohm per cell segment: an assumption" in html
    m = small_full_run.metrics
    assert f"{100 * m['software']['test_accuracy']:.2f} %" in html
    assert m["meta"]["versions"]["verilator"] in html
    assert "[calibration]" in html  # the resolved configuration is embedded
    c = m["cosim"]  # the stress inputs and what the co-simulated inputs reached
    assert f'id="cosim-stress">{c["stress_samples"]}<' in html and "input-map edges" in html


def test_missing_stages_are_marked(small_run, tmp_path):
    m = json.loads((small_run.run_dir / "metrics.json").read_text())
    run = tmp_path / "partial"
    shutil.copytree(small_run.run_dir, run)
    render_report(run, m, config_to_toml(small_run.cfg))
    html = (run / "report.html").read_text()
    for stage in ("calibrate stage", "cosim stage", "energy stage", "analog stage"):
        assert f"The {stage}" in html


def test_fallback_data_is_announced(small_run, tmp_path):
    m = json.loads((small_run.run_dir / "metrics.json").read_text())
    m["meta"]["dataset"] = {**m["meta"]["dataset"], "fallback": True, "notes": ["FALLBACK DATA: test note"]}
    render_report(tmp_path, m, config_to_toml(small_run.cfg))
    assert 'class="fallback">FALLBACK DATA: test note' in (tmp_path / "report.html").read_text()


def test_report_in_headless_chromium(small_full_run, tmp_path):
    exe = _chromium()
    if exe is None:
        missing("Chromium is not installed (apt-get install chromium)")
    run_dir = small_full_run.run_dir
    probe = tmp_path / "probe.html"
    probe.write_text((run_dir / "report.html").read_text().replace("</body>", PROBE))
    base = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr", "--v=0",
            "--virtual-time-budget=10000"]
    r = subprocess.run([*base, f"--user-data-dir={tmp_path / 'profile1'}", "--dump-dom", probe.as_uri()],
                       capture_output=True, text=True, timeout=180)
    found = re.search(r'<pre id="reram-probe">(.*?)</pre>', r.stdout, re.S)
    assert found, r.stderr[-2000:]
    res = json.loads(found.group(1))
    assert res["images"] >= 9 and res["broken"] == [] and res["errors"] == []
    console = [ln for ln in r.stderr.splitlines() if ":CONSOLE" in ln]
    assert console == [], console
    m = small_full_run.metrics
    text = r.stdout
    assert f"{100 * m['software']['test_accuracy']:.2f} %" in text
    assert f"{100 * m['analog']['test_accuracy_mean']:.2f}" in text
    assert f"{m['cosim']['mismatched_codes']} of {m['cosim']['compared_codes']}" in text
    assert f"{m['energy']['boundaries'][-1]['tops_per_w']:.3g}" in text
    shot = run_dir / "report_screenshot.png"
    r2 = subprocess.run([*base, f"--user-data-dir={tmp_path / 'profile2'}", "--window-size=1200,3000",
                         f"--screenshot={shot}", (run_dir / "report.html").as_uri()],
                        capture_output=True, text=True, timeout=180)
    assert shot.exists() and shot.stat().st_size > 10000, r2.stderr[-1000:]


def test_report_figures_have_no_overlaps(small_full_run):
    """Every figure is checked at save time (reram.report.layout): no text box intersects another, a legend, an
    error bar or a neighbouring panel."""
    run_dir = small_full_run.run_dir
    layout = json.loads((run_dir / "report" / "layout.json").read_text())
    assert layout == {}, layout
    assert len(list((run_dir / "report").glob("*.png"))) >= 9


def test_layout_checker_finds_overlaps():
    import matplotlib.pyplot as plt

    from reram.report.layout import layout_problems

    fig, ax = plt.subplots(1, 2, figsize=(4, 2))
    ax[0].barh([0, 1], [90, 95], xerr=[5, 5])
    ax[0].text(91, 0, "91.00 %")  # under the error bar
    ax[0].text(0.5, 0.5, "label", transform=ax[0].transAxes)
    ax[0].text(0.52, 0.5, "label2", transform=ax[0].transAxes)  # on top of "label"
    ax[1].set_ylabel("a long y label that runs into the left panel", labelpad=80)
    problems = " | ".join(layout_problems(fig))
    plt.close(fig)
    assert "error bar runs over text '91.00 %'" in problems
    assert "text 'label' overlaps text 'label2'" in problems
    assert "runs into another panel" in problems


def test_section_screenshots(small_full_run, tmp_path):
    exe = _chromium()
    if exe is None:
        missing("Chromium is not installed (apt-get install chromium)")
    run_dir = small_full_run.run_dir
    html = (run_dir / "report.html").read_text()
    sections = re.findall(r'<h2 id="([a-z-]+)">', html)
    assert {"summary", "ablation", "sensitivity", "energy", "cosim", "followups"} <= set(sections)
    out = run_dir / "report" / "screenshots"
    out.mkdir(exist_ok=True)
    base = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--hide-scrollbars", "--window-size=1100,900"]
    digests = set()
    for sec in sections:
        shot = out / f"{sec}.png"
        page = tmp_path / f"{sec}.html"  # the section alone, at the top of the page
        start = html.index(f'<h2 id="{sec}">')
        nxt = html.find("<h2 ", start + 1)
        body = html[start: nxt if nxt > 0 else html.index("</body>")]
        page.write_text(html[: html.index("<body>") + 6] + body + "</body></html>")
        r = subprocess.run([*base, f"--user-data-dir={tmp_path / ('p-' + sec)}", f"--screenshot={shot}",
                            page.as_uri()], capture_output=True, text=True, timeout=180)
        assert shot.exists() and shot.stat().st_size > 3000, (sec, r.stderr[-500:])
        digests.add(hashlib.sha256(shot.read_bytes()).hexdigest())
    assert len(digests) == len(sections)  # one distinct screenshot per section


def test_citations_once_and_one_microsiemens_spelling(small_full_run):
    html = (small_full_run.run_dir / "report.html").read_text()
    text = re.sub(r"<[^>]+>", " ", re.sub(r'src="data:image/png;base64,[^"]+"', "", html))
    assert text.count("ISAAC: A Convolutional") == 1
    assert text.count("Wan et al.") == 1
    assert not re.search(r"\duS\b|\d uS\b", text) and "µS" in text
