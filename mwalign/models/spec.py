"""What a local model is: its sources (files inside pinned PyPI packages) and the recipe that builds its folder.

:mod:`mwalign.models.recipes` lists the local models; :mod:`mwalign.models.prepare` builds them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata, util
from pathlib import Path


class ModelError(ValueError):
    """A model name, folder or source that cannot be used; the message is one line naming it."""


@dataclass(frozen=True)
class Source:
    """A file shipped inside an installed PyPI package."""

    package: str  # distribution name, pinned below
    version: str
    module: str  # import name
    relpath: str

    def path(self) -> Path:
        spec = util.find_spec(self.module)
        installed = _installed_version(self.package)
        if spec is None or not spec.submodule_search_locations or installed is None:
            raise ModelError(f"package {self.package} is not installed; pip install {self.package}=={self.version}")
        if installed != self.version:
            raise ModelError(
                f"package {self.package}=={installed} found, {self.version} expected; "
                f"pip install {self.package}=={self.version}"
            )
        path = Path(next(iter(spec.submodule_search_locations))) / self.relpath
        if not path.exists():
            raise ModelError(f"{path}: missing from {self.package}=={self.version}; reinstall the package")
        return path


def _installed_version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


@dataclass(frozen=True)
class LocalModel:
    """An offline model: where its parts come from and how to build its folder."""

    name: str
    description: str
    sources: dict[str, Source]
    recipe: dict  # every parameter that changes the output
    build: Callable[[dict[str, Path], Path, dict], None]  # (source paths, empty out dir, recipe)
    on_demand: bool = False  # built when first named, not by `mwalign models prepare` without names
