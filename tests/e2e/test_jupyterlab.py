"""JupyterLab as a person uses it: each notebook opened in headless Chromium, every cell run on the tiny micro suite.

Needs Debian's `chromium` (driven by playwright through `executable_path`; `.ci/run` installs it and sets
PYTHIA_REPRO_BROWSER_TESTS=1, which turns a missing browser into a failure instead of a skip). Screenshots go
to PYTHIA_REPRO_ARTIFACTS (default: the test's temporary folder).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from pythia_repro import settings

from conftest import BROWSER_REQUIRED, CHROMIUM, CHROMIUM_ARGS, REPO

# term_frequency runs in full in the reader test below, before its parameter is changed
NOTEBOOKS = ("memorization", "simplicity_bias", "gender_bias", "simplicity_bias_images")
RUN_SECONDS = 600
STALL_SECONDS = 240  # no cell finished for this long: the kernel's queue is lost
PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"  # the notebook in front
# Every cell in the page (JupyterLab 4 renders only the visible ones by default), the notebook's kernel started
# without asking (a "Select Kernel" dialog was seen in CI), and no news pop-up.
SETTINGS = {
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none", "autoStartDefaultKernel": True},
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
}

pytestmark = pytest.mark.skipif(
    CHROMIUM is None and not BROWSER_REQUIRED, reason="Debian's chromium is not installed (.ci/run installs it)"
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory, _tiny_suites):
    """A JupyterLab server on 127.0.0.1 with a token, at a project holding the notebooks, on the tiny suites (the
    session's build, copied)."""
    root = tmp_path_factory.mktemp("lab")
    shutil.copytree(REPO / "notebooks", root / "notebooks")
    (root / "results").mkdir()
    lab_settings = root / "lab-settings"
    for plugin, values in SETTINGS.items():
        (lab_settings / plugin).parent.mkdir(parents=True, exist_ok=True)
        (lab_settings / f"{plugin}.jupyterlab-settings").write_text(json.dumps(values))
    env = {
        settings.variable("home"): str(root / "cache"),
        settings.variable("micro_variant"): "tiny",
        settings.variable("root"): str(root),
        "JUPYTERLAB_SETTINGS_DIR": str(lab_settings),
    }
    shutil.copytree(_tiny_suites, root / "cache" / "suites")
    token, port = secrets.token_hex(16), _free_port()
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        *(["--allow-root"] if os.geteuid() == 0 else []),
    ]
    inline = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}  # figures inline, as for a user
    with open(root / "lab.log", "wb") as log:
        server = subprocess.Popen(command, env={**inline, **env}, cwd=root, stdout=subprocess.DEVNULL, stderr=log)
        url = f"http://127.0.0.1:{port}"
        deadline = time.time() + 120
        while True:
            try:
                urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=5)
                break
            except OSError:
                if time.time() > deadline or server.poll() is not None:
                    server.kill()
                    pytest.fail(f"JupyterLab did not start: {(root / 'lab.log').read_text()[-2000:]}")
                time.sleep(1)
        yield url, token, root
        server.terminate()
        server.wait(timeout=30)


def _prompts(page) -> list[str]:
    return page.locator(f"{PANEL} .jp-CodeCell .jp-InputPrompt").all_inner_texts()


def _menu(page, menu: str, item: str) -> None:
    _dismiss_dialog(page)
    page.locator(".lm-MenuBar-itemLabel", has_text=menu).first.click()
    page.locator(".lm-Menu-itemLabel", has_text=item).first.click()


def _dismiss_dialog(page) -> None:
    """Answer a dialog JupyterLab opened on its own, as a person would: its default button. Seen in CI: "Select
    Kernel" for the first notebook opened, offered the package's kernel and ipykernel's (both this interpreter).
    Its text is printed (shown with a failure)."""
    dialog = page.locator(".jp-Dialog")
    if dialog.count():
        print(f"answered a JupyterLab dialog: {dialog.first.inner_text()!r}")
        page.locator(".jp-Dialog .jp-mod-accept").first.click(timeout=10_000)
        dialog.first.wait_for(state="detached", timeout=30_000)
        page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=120_000)


def _run_all_cells(page) -> None:
    """Run → Run All Cells, again if no cell got queued (a kernel that just said idle may not take it yet)."""
    for _ in range(5):
        _menu(page, "Run", "Run All Cells")
        for _ in range(20):
            if any("*" in p for p in _prompts(page)) or _finished(page):
                return
            time.sleep(1)
    pytest.fail("Run All Cells started no cell")


def _restart_and_run_all(page) -> None:
    """Kernel → Restart Kernel and Run All Cells, confirming the dialog."""
    _menu(page, "Kernel", "Restart Kernel and Run All Cells")
    page.locator(".jp-Dialog .jp-mod-accept").first.click(timeout=30_000)
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=120_000)


def _finished(page) -> bool:
    """No cell running or queued, and every code cell run (or an error stopped the run)."""
    prompts = _prompts(page)
    errors = page.locator(f'{PANEL} .jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]').count()
    return (
        bool(prompts)
        and not any("*" in p for p in prompts)
        and (all(any(c.isdigit() for c in p) for p in prompts) or errors > 0)
    )


def _run_to_end(page, name: str, root: Path, artifacts: Path) -> int:
    """Run every cell and wait for the end; return how many times a lost run had to be restarted.

    jupyter_server can drop a kernel's websocket while the page connects (jupyter-server/jupyter_server#1265:
    'NoneType' object has no attribute 'kernel_ws_protocol'); the cells queued on it are then forgotten and the
    page sits idle with the run half done. That is the server's race, not the notebook's: such a stalled run,
    or one with no progress for STALL_SECONDS, is restarted on a fresh kernel, at most twice.
    """
    _run_all_cells(page)
    restarts, seen, changed = 0, _prompts(page), time.time()
    deadline = time.time() + RUN_SECONDS
    while not _finished(page):
        if time.time() > deadline:
            page.screenshot(path=str(artifacts / f"jupyterlab-{name}-timeout.png"))
            pytest.fail(
                f"{name}: cells still running after {RUN_SECONDS} s; prompts {_prompts(page)}; "
                f"server log: {(root / 'lab.log').read_text()[-1500:]}"
            )
        prompts = _prompts(page)
        if prompts != seen:
            seen, changed = prompts, time.time()
        lost = not any("*" in p for p in prompts)  # not finished, yet nothing queued
        if (lost and time.time() - changed > 20) or time.time() - changed > STALL_SECONDS:
            restarts += 1
            page.screenshot(path=str(artifacts / f"jupyterlab-{name}-stalled-{restarts}.png"))
            if restarts > 2:
                pytest.fail(
                    f"{name}: the run stalled {restarts} times; prompts {prompts}; "
                    f"server log: {(root / 'lab.log').read_text()[-1500:]}"
                )
            _restart_and_run_all(page)
            seen, changed, deadline = _prompts(page), time.time(), time.time() + RUN_SECONDS
        time.sleep(2)
    return restarts


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs_in_jupyterlab(lab, name):
    from playwright.sync_api import sync_playwright

    url, token, root = lab
    artifacts = settings.path("artifacts") or root / "artifacts"
    artifacts.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        _open_and_run_all(page, url, token, name, root, artifacts)
        browser.close()


def _open_and_run_all(page, url: str, token: str, name: str, root: Path, artifacts: Path) -> None:
    """Open a notebook in a fresh workspace, run every cell, save, and check what a person sees: no error, every
    cell run, every figure rendered, the claims' verdicts printed."""
    page.goto(f"{url}/lab/tree/notebooks/{name}.ipynb?reset&token={token}")  # a fresh workspace
    page.wait_for_selector(f"{PANEL} .jp-Cell", timeout=120_000)
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=120_000)
    restarts = _run_to_end(page, name, root, artifacts)
    if restarts:
        print(f"{name}: the run was restarted {restarts} time(s) after a lost kernel connection")
    page.keyboard.press("Control+s")
    time.sleep(2)
    page.screenshot(path=str(artifacts / f"jupyterlab-{name}.png"), full_page=True)
    images = page.locator(f"{PANEL} .jp-RenderedImage img").count()
    saved = json.loads((root / "notebooks" / f"{name}.ipynb").read_text())
    outputs = [o for c in saved["cells"] if c["cell_type"] == "code" for o in c.get("outputs", [])]
    errors = [f"{o['ename']}: {o['evalue']}" for o in outputs if o["output_type"] == "error"]
    assert not errors, f"{name}: {errors}"
    assert all(c.get("execution_count") for c in saved["cells"] if c["cell_type"] == "code"), "every cell ran"
    figures = sum("image/png" in o.get("data", {}) for o in outputs)
    assert figures >= 2 and images >= figures, f"{name}: {figures} figures in the notebook, {images} rendered"
    printed = "".join("".join(o.get("text", "")) for o in outputs if o["output_type"] == "stream")
    assert "reproduced" in printed.lower(), f"{name}: the claims cell printed no verdict"


def _section_output(notebook: dict, section: str) -> str:
    """The outputs of the cell that displays `section`, as JSON text (a figure's PNG included)."""
    cell = next(c for c in notebook["cells"] if f'result.display("{section}")' in "".join(c["source"]))
    return json.dumps(cell.get("outputs", []))


def test_a_reader_changes_a_parameter_and_reruns_a_section(lab):
    """As a reader exploring: run the notebook, change a parameter in its first cell, re-run from there, and the
    section it governs shows the new value while the tables stay in the namespace under their names."""
    from playwright.sync_api import sync_playwright

    url, token, root = lab
    name = "term_frequency"
    artifacts = settings.path("artifacts") or root / "artifacts"
    artifacts.mkdir(parents=True, exist_ok=True)
    saved = root / "notebooks" / f"{name}.ipynb"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        _open_and_run_all(page, url, token, name, root, artifacts)
        before = json.loads(saved.read_text())
        page.locator(f"{PANEL} .jp-CodeCell .cm-content").first.click()
        page.keyboard.press("Control+End")
        page.keyboard.type('\nheatmap_model = "micro-xs"')
        page.keyboard.press("Escape")
        _menu(page, "Run", "Run Selected Cell and All Below")
        deadline = time.time() + RUN_SECONDS
        time.sleep(2)
        while not _finished(page):
            assert time.time() < deadline, f"the re-run did not finish; prompts {_prompts(page)}"
            time.sleep(2)
        page.keyboard.press("Control+s")
        time.sleep(2)
        page.screenshot(path=str(artifacts / f"jupyterlab-{name}-rerun.png"), full_page=True)
        browser.close()
    after = json.loads(saved.read_text())
    assert 'heatmap_model = "micro-xs"' in "".join(after["cells"][1]["source"])
    errors = [o for c in after["cells"] for o in c.get("outputs", []) if o["output_type"] == "error"]
    assert not errors, errors
    assert _section_output(after, "heatmap") != _section_output(before, "heatmap"), "the heatmap shows micro-xs now"
    printed = _section_output(after, "gaps")
    assert "its tables: `frequency_gap`" in printed, "the section names its tables, each a variable of that name"
