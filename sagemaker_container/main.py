"""Entry point of the training image (SAGEMAKER_PROGRAM): load the config, train, report failures.

On SageMaker the config comes from the ``config`` channel and the hyperparameters; the toolkit also
passes the hyperparameters as ``--KEY VALUE`` arguments, which are ignored here in favour of
hyperparameters.json. By hand: ``python main.py --config-file my_training.yaml``.
Exit codes: 0 done, 1 failed (see output/failure), 143 stopped by SIGTERM after a checkpoint.
Started by torchrun (``torchrun --nproc_per_node 2 main.py``), it is one rank of a data-parallel job.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from digits.failure import run_guarded
from sagemaker_contract.names import RANK_ENV


def parse_args(argv: list[str]) -> argparse.Namespace:
    """The options of a run by hand; unknown arguments (the toolkit's hyperparameters) are dropped."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--config-file",
        type=Path,
        help="Training YAML to merge over the defaults when the config channel has no training_config.yaml.",
    )
    known, _ = parser.parse_known_args(argv)
    return known


def main(argv: list[str]) -> int:
    """Run the job under the failure guard and return the exit code."""
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    def train() -> None:
        # Imported under the guard, so a broken install is reported in the failure file too.
        from digits import job
        from digits.job_config import load_training_config

        cfg = load_training_config(args.config_file)
        # Once per job under torchrun (global rank 0), once per host otherwise.
        if os.environ.get(RANK_ENV, "0") == "0":
            logging.getLogger("main").info("Training config:\n%s", cfg.dump())
        job.run(cfg)

    return run_guarded(train)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
