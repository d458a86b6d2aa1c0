"""Where the training config's defaults come from: ``TRAINING.DEFAULTS``, ``module:name`` in the code folder.

The launcher imports the team's own defaults (a yacs ``CfgNode``, or a function returning one, such as
a detectron2-style ``get_cfg``) to check training YAML files and overrides against their keys before
any job starts. Three cases, documented beside the key in ``sagemaker_default_config.py``: the digits
example's defaults (the default value), a team's YACS project, or none.
"""

from __future__ import annotations

import importlib
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from yacs.config import CfgNode

from sagemaker_launcher.config.contained import contained
from sagemaker_launcher.config.run_modes import code_dir
from sagemaker_launcher.errors import LauncherError

# The bundled example's defaults, looked up in the code folder like any other.
EXAMPLE_DEFAULTS = "training_default_config:get_training_cfg_defaults"
# A module's optional check of its own values: value_problems(cfg) -> ["'KEY' must be ..., got X"].
VALUE_RULES_FUNCTION = "value_problems"
_SPEC = re.compile(r"(?P<module>[A-Za-z_]\w*(\.[A-Za-z_]\w*)*):(?P<name>[A-Za-z_]\w*)")


@dataclass(frozen=True)
class TrainingDefaults:
    """The defaults a training config merges over, and what the launcher does with its keys."""

    spec: str
    cfg: CfgNode | None
    # The defaults' file, e.g. "sagemaker_container/training_default_config.py"; empty without defaults.
    source: str = ""
    value_problems: Callable[[CfgNode], list[str]] | None = None
    # Why the default spec gave no config, for a one-line note; None otherwise.
    note: str | None = None

    @property
    def sends_training_keys(self) -> bool:
        """Only the example's main.py applies training keys given as hyperparameters."""
        return self.cfg is not None and self.spec == EXAMPLE_DEFAULTS


def uses_example_defaults(sagemaker: CfgNode) -> bool:
    """Whether the job trains with the example's defaults (its main.py), as far as the config says."""
    return sagemaker.TRAINING.DEFAULTS == EXAMPLE_DEFAULTS


def load_training_defaults(sagemaker: CfgNode, where: str) -> TrainingDefaults:
    """Import the defaults ``TRAINING.DEFAULTS`` names; ``where`` names the config for messages."""
    spec = sagemaker.TRAINING.DEFAULTS
    if not spec:
        return TrainingDefaults(spec, None)
    match = _SPEC.fullmatch(spec)
    if not match:
        raise LauncherError(
            f"{where}: TRAINING.DEFAULTS = {spec!r} is not 'module:name' (e.g. 'my_project.config:get_cfg', "
            "a module inside SAGEMAKER.SOURCE_DIR and a CfgNode or function in it), nor empty for a script "
            "without a YACS config."
        )
    folder = code_dir(sagemaker)
    module_name, name = match["module"], match["name"]
    if not folder.is_dir():
        raise LauncherError(
            f"{where}: SAGEMAKER.SOURCE_DIR = {str(folder)!r} is not a folder (resolved from {Path.cwd()}), "
            f"so TRAINING.DEFAULTS = {spec!r} cannot be imported from it."
        )
    if spec == EXAMPLE_DEFAULTS and not _module_file(folder, module_name):
        return TrainingDefaults(
            spec,
            None,
            note=f"Note: {folder} has no {module_name}.py (TRAINING.DEFAULTS), so this job has no training "
            "config and the script gets only HYPERPARAMETERS.",
        )
    fix = "Fix the module, or set TRAINING.DEFAULTS to '' to send only HYPERPARAMETERS."
    with contained(f"importing TRAINING.DEFAULTS = {spec!r} from {folder}", where, fix):
        module = _import_from(folder, module_name, spec, where)
    found = getattr(module, name, None)
    if found is None:
        raise LauncherError(f"{where}: TRAINING.DEFAULTS = {spec!r}: {module_name} has no '{name}'.")
    if callable(found) and not isinstance(found, CfgNode):
        fix = "Name a CfgNode, or a function that takes no arguments and returns one."
        with contained(f"calling TRAINING.DEFAULTS = {spec!r}", where, fix):
            cfg = found()
    else:
        cfg = found
    if not isinstance(cfg, CfgNode):
        raise LauncherError(
            f"{where}: TRAINING.DEFAULTS = {spec!r} gave {type(cfg).__name__}, not a yacs CfgNode. Name a "
            "CfgNode or a function that returns one (such as a get_cfg())."
        )
    rules = getattr(module, VALUE_RULES_FUNCTION, None)
    source = str(_module_file(folder, module_name) or folder)
    return TrainingDefaults(spec, cfg.clone(), source, rules if callable(rules) else None)


def _module_file(folder: Path, module_name: str) -> Path | None:
    base = folder.joinpath(*module_name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _import_from(folder: Path, module_name: str, spec: str, where: str) -> object:
    """Import ``module_name`` from ``folder`` as the job would, then forget it again.

    The modules that came from ``folder`` are dropped afterwards, so two configs whose code folders
    hold modules of the same name never see each other's.
    """
    with _on_path(folder):
        try:
            return importlib.import_module(module_name)
        except ModuleNotFoundError as error:
            missing = error.name or str(error)
            if missing.split(".")[0] == module_name.split(".")[0]:
                raise LauncherError(
                    f"{where}: TRAINING.DEFAULTS = {spec!r}: there is no module {module_name} in "
                    f"{folder}. Check the name, or set SAGEMAKER.SOURCE_DIR to the folder holding it."
                ) from None
            raise LauncherError(
                f"{where}: TRAINING.DEFAULTS = {spec!r} imports '{missing}', which the launcher's own Python "
                f"environment ({sys.prefix}) lacks. The launcher imports your defaults to check configs "
                f"before a job starts: install it there (pip install {missing.split('.')[0]}), or set "
                "TRAINING.DEFAULTS to '' to send only HYPERPARAMETERS."
            ) from None


@contextmanager
def _on_path(folder: Path) -> Iterator[None]:
    entry = str(folder.resolve())
    before = set(sys.modules)
    sys.path.insert(0, entry)
    try:
        yield
    finally:
        sys.path.remove(entry)
        for name in set(sys.modules) - before:
            origin = getattr(sys.modules[name], "__file__", None) or ""
            if origin.startswith(entry):
                del sys.modules[name]
