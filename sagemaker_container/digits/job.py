"""The training job: build everything from the config, resume, train, checkpoint and export.

One process per GPU (or per host), data-parallel: each rank trains on its shard of every epoch
with SOLVER.BATCH_SIZE samples per step. Checkpoints: only global rank 0 writes them (every host's
checkpoint folder syncs to the same S3 prefix, so several writers would overwrite each other); on
start rank 0 loads the newest valid one and sends it to the others, so every rank resumes from the
same state. Each rank's RNG state and running loss travel inside it, one entry per rank.
"""

from __future__ import annotations

import gc
import logging

import torch
from yacs.config import CfgNode

from . import (
    builders,
    checkpoints,
    digits_data,
    distributed,
    engine,
    export,
    metrics,
    paths,
    precision,
    rng,
    tensorboard_log,
)
from .distributed import Cluster, StopVote
from .job_errors import ConfigError, StoppedBySignal
from .preemption import StopFlag

logger = logging.getLogger(__name__)

_CHECKPOINT_KEYS = ("model", "optimizer", "scheduler", "scaler", "epoch", "step", "history", "ranks")


def run(cfg: CfgNode) -> None:
    """Train on every process, then have global rank 0 write the model and metrics."""
    stop_flag = StopFlag()
    stop_flag.install()
    cluster = distributed.start(distributed.read_world())
    job: TrainingJob | None = None
    try:
        chosen = precision.choose(cfg.SOLVER.PRECISION, cluster.device)
        if cluster.is_main:
            logger.info("Training with %s, precision %s", cluster.describe(), chosen.describe())
            if cluster.cpu_reason:
                logger.info("Every rank trains on the CPU over gloo: %s.", cluster.cpu_reason)
        job = TrainingJob(cfg, cluster, chosen, stop_flag)
        job.fit()
        job.finish()
        # SageMaker local mode stops every container once one exits: the others wait here until
        # rank 0 has written the model.
        cluster.barrier()
    finally:
        # DDP's reducer and the work it holds go now, while the process group and the interpreter
        # are alive: left to the collector at interpreter exit, gloo can abort the process.
        job = None
        gc.collect()
        distributed.stop(cluster)


class TrainingJob:
    """The data, network, optimizer and progress of one process's share of the job."""

    def __init__(
        self, cfg: CfgNode, cluster: Cluster, chosen: precision.Precision, stop_flag: StopFlag
    ) -> None:
        self.cfg = cfg
        self.cluster = cluster
        self.precision = chosen
        self.stop_flag = stop_flag
        self.stop_vote = StopVote(cluster)
        self.checkpoint_dir = paths.checkpoint_dir()
        self.checkpoint_writer = checkpoints.BackgroundWriter(self.checkpoint_dir, cfg.CHECKPOINT.KEEP_LAST)
        use_cuda = cluster.device.type == "cuda"
        rng.seed_everything(cfg.SEED + cluster.rank)
        num_classes = cfg.MODEL.NUM_CLASSES
        train_set = digits_data.load_split(cfg.DATA.TRAIN_CHANNEL, cfg.DATA.FILE_NAME, num_classes)
        validation_set = digits_data.load_split(cfg.DATA.VALIDATION_CHANNEL, cfg.DATA.FILE_NAME, num_classes)
        rank, world_size, workers = cluster.rank, cluster.world_size, cfg.DATA.NUM_WORKERS
        self.train_loader = digits_data.train_loader(
            train_set, cfg.SOLVER.BATCH_SIZE, rank, world_size, cfg.SEED, workers, use_cuda
        )
        self.validation_loader = digits_data.validation_loader(
            validation_set, cfg.SOLVER.BATCH_SIZE, rank, world_size, workers, use_cuda
        )
        self.network = builders.build_network(cfg).to(cluster.device)
        self.model = distributed.data_parallel(self.network, cluster, train_set.tensors[0][:1])
        self.optimizer = builders.build_optimizer(self.network, cfg)
        self.scheduler = builders.build_scheduler(self.optimizer, cfg, len(self.train_loader))
        self.scaler = torch.amp.GradScaler(cluster.device.type, enabled=chosen.uses_scaler)
        self.epoch = 0
        self.progress = engine.EpochProgress()
        self.history: list[dict[str, float]] = []
        # Opened once the job knows its first epoch (fit); writes nothing until then, nor on other ranks.
        self.board = tensorboard_log.EpochBoard(None)

    def fit(self) -> None:
        """Train from the newest checkpoint (or from scratch) to SOLVER.EPOCHS."""
        self._resume()
        if self.cluster.is_main:
            self.board = tensorboard_log.EpochBoard(paths.tensorboard_dir(), first_epoch=self.epoch + 1)
        period = self.cfg.CHECKPOINT.PERIOD_EPOCHS
        while self.epoch < self.cfg.SOLVER.EPOCHS:
            digits_data.start_epoch(self.train_loader, self.cfg.SEED, self.epoch, self.progress.steps)
            finished = engine.train_epoch(
                self.model,
                self.train_loader,
                self.optimizer,
                self.scheduler,
                self.scaler,
                self.progress,
                self._should_stop,
                self.precision.autocast_dtype,
            )
            if not finished:
                self._save_checkpoint(background=False)
                raise StoppedBySignal(
                    f"checkpoint saved after epoch {self.epoch} and {self.progress.steps} steps of the next; "
                    "a restart resumes from it."
                )
            self.epoch += 1
            self._validate()
            self.progress = engine.EpochProgress()
            if period and self.epoch % period == 0:
                self._save_checkpoint(background=True)
        # A stop asked for during the last step comes too late to matter: the job is done.
        self.stop_vote.settle()
        self.checkpoint_writer.wait()
        self.board.close()

    def finish(self) -> None:
        """Log this rank's weights digest; global rank 0 writes the model and the metrics."""
        logger.info(
            "Host %s final weights sha256=%s (rank %d)",
            self.cluster.current_host,
            export.weights_digest(self.network),
            self.cluster.rank,
        )
        if self.cluster.is_main:
            export.write_model(self.network, self.cfg, paths.model_dir())
            metrics.write_metrics(self.history, paths.output_data_dir())
            logger.info("Wrote the model to %s and metrics to %s", paths.model_dir(), paths.output_data_dir())

    def _should_stop(self) -> bool:
        return self.stop_vote(self.stop_flag.requested)

    def _validate(self) -> None:
        loss_sum, samples = self.cluster.sum([self.progress.loss_sum, float(self.progress.samples)])
        scores = engine.evaluate(self.network, self.validation_loader, self.precision.autocast_dtype)
        validation_loss, correct, count = self.cluster.sum(scores)
        record = {
            "epoch": self.epoch,
            "train:loss": loss_sum / samples,
            "validation:loss": validation_loss / count,
            "validation:accuracy": correct / count,
        }
        self.history.append(record)
        if self.cluster.is_main:
            metrics.print_epoch(record)
            self.board.write(record, self.optimizer.param_groups[0]["lr"])

    def _save_checkpoint(self, background: bool) -> None:
        """Checkpoint the current state; a periodic save is written while training goes on."""
        mine = {
            "rng": rng.capture(self.cluster.device),
            "loss_sum": self.progress.loss_sum,
            "samples": self.progress.samples,
        }
        per_rank = self.cluster.gather(mine)
        if not self.cluster.is_main:
            return
        state = {
            "model": self.network.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "scaler": self.scaler.state_dict(),
            "epoch": self.epoch,
            "step": self.progress.steps,
            "history": self.history,
            "ranks": per_rank,
        }
        if background:
            path = self.checkpoint_writer.submit(state, self.epoch, self.progress.steps)
            logger.info("Saving checkpoint %s in the background", path)
            return
        self.checkpoint_writer.wait()
        path = checkpoints.save(
            state, self.checkpoint_dir, self.epoch, self.progress.steps, self.cfg.CHECKPOINT.KEEP_LAST
        )
        logger.info("Saved checkpoint %s", path)

    def _resume(self) -> None:
        found = None
        if self.cluster.is_main:
            found = checkpoints.load_newest(self.checkpoint_dir, _CHECKPOINT_KEYS)
        found = self.cluster.broadcast(found)
        if found is None:
            logger.info("No checkpoint in %s: training from scratch.", self.checkpoint_dir)
            return
        path, state = found
        if len(state["ranks"]) != self.cluster.world_size:
            raise ConfigError(
                f"Checkpoint {path} was saved by {len(state['ranks'])} processes but this job has "
                f"{self.cluster.describe()}; resume with the same instance count and "
                "SAGEMAKER.PROCESSES_PER_HOST (and as many GPUs per instance), or clear the checkpoints."
            )
        self.network.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        if state["scaler"]:
            self.scaler.load_state_dict(state["scaler"])
        self.epoch = state["epoch"]
        self.history = state["history"]
        mine = state["ranks"][self.cluster.rank]
        self.progress = engine.EpochProgress(state["step"], mine["loss_sum"], mine["samples"])
        rng.restore(mine["rng"], self.cluster.device)
        logger.info(
            "Resumed from %s: epoch %d done, %d steps into the next.", path, self.epoch, self.progress.steps
        )
