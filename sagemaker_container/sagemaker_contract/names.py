"""Names both sides of the SageMaker contract use: the launcher writes them, the image's code reads them.

Standard library only and nothing but constants, so the launcher imports it without the training
code's packages and the image ships it in its code folder. Paths inside the container are relative
to its base dir (``/opt/ml``, or ``$SAGEMAKER_BASE_DIR``), written with ``/``.
"""

# ---------------------------------------------------------------------------------------------- #
# The container's /opt/ml tree
# ---------------------------------------------------------------------------------------------- #
# Variable that moves the base dir, e.g. to a local run's host folder (the toolkit honours it too).
BASE_DIR_ENV = "SAGEMAKER_BASE_DIR"
# The base dir of every SageMaker training container.
DEFAULT_BASE_DIR = "/opt/ml"
# Where the image's code lives (and where the toolkit unpacks sourcedir.tar.gz): /opt/ml/code.
CODE_DIR = "code"
# The job's hyperparameters, every value a string: /opt/ml/input/config/hyperparameters.json.
HYPERPARAMETERS_FILE = "input/config/hyperparameters.json"
# Each channel's input mode and distribution: /opt/ml/input/config/inputdataconfig.json.
INPUT_DATA_CONFIG_FILE = "input/config/inputdataconfig.json"
# This host's name and all hosts' names: /opt/ml/input/config/resourceconfig.json.
RESOURCE_CONFIG_FILE = "input/config/resourceconfig.json"
# Present when checkpointing is on, with LocalPath and S3Uri: /opt/ml/input/config/checkpointconfig.json.
CHECKPOINT_CONFIG_FILE = "input/config/checkpointconfig.json"
# One folder per input channel below it: /opt/ml/input/data/<channel>.
CHANNELS_DIR = "input/data"
# Packed into model.tar.gz when the job ends: /opt/ml/model.
MODEL_DIR = "model"
# SageMaker's output folder (Docker local mode packs all of it into output.tar.gz): /opt/ml/output.
OUTPUT_DIR = "output"
# Packed into output.tar.gz when the job ends: /opt/ml/output/data.
OUTPUT_DATA_DIR = "output/data"
# Its first 1024 characters become the job's FailureReason: /opt/ml/output/failure.
FAILURE_FILE = "output/failure"
# TensorBoard event files, synced to TensorBoardOutputConfig.S3OutputPath as the job runs:
# /opt/ml/output/tensorboard (the service's default LocalPath).
TENSORBOARD_OUTPUT_DIR = "output/tensorboard"
# Synced with CheckpointConfig.S3Uri unless checkpointconfig.json names another: /opt/ml/checkpoints.
CHECKPOINTS_DIR = "checkpoints"

# ---------------------------------------------------------------------------------------------- #
# Variables the toolkit sets (each wins over the path derived from the base dir)
# ---------------------------------------------------------------------------------------------- #
# Prefix of each channel's folder variable, e.g. SM_CHANNEL_TRAIN.
CHANNEL_ENV_PREFIX = "SM_CHANNEL_"
# The model folder.
MODEL_DIR_ENV = "SM_MODEL_DIR"
# The output data folder.
OUTPUT_DATA_DIR_ENV = "SM_OUTPUT_DATA_DIR"
# The training job's name, which SageMaker sets in every container (a tuning job's trials each
# have their own; a spot job keeps its name when it restarts).
JOB_NAME_ENV = "TRAINING_JOB_NAME"

# ---------------------------------------------------------------------------------------------- #
# Variables torchrun gives each process (host mode sets them as torchrun does)
# ---------------------------------------------------------------------------------------------- #
# The process's rank in the whole job.
RANK_ENV = "RANK"
# Its rank on this host, which picks its GPU.
LOCAL_RANK_ENV = "LOCAL_RANK"
# Processes in the whole job.
WORLD_SIZE_ENV = "WORLD_SIZE"
# Processes on this host.
LOCAL_WORLD_SIZE_ENV = "LOCAL_WORLD_SIZE"
# Host name of the rendezvous (the first host).
MASTER_ADDR_ENV = "MASTER_ADDR"
# TCP port of the rendezvous.
MASTER_PORT_ENV = "MASTER_PORT"

# ---------------------------------------------------------------------------------------------- #
# The config channel: the launcher's resolved configs and record, read by the job
# ---------------------------------------------------------------------------------------------- #
# Its channel name, so /opt/ml/input/data/config (SM_CHANNEL_CONFIG); no INPUTS entry may take it.
CONFIG_CHANNEL = "config"
# The resolved SageMaker config.
SAGEMAKER_CONFIG_FILE = "sagemaker_config.yaml"
# The resolved training config (also its name inside model.tar.gz).
TRAINING_CONFIG_FILE = "training_config.yaml"
# Who launched what from which commit.
RECORD_FILE = "record.json"
# The exact CreateTrainingJob request.
REQUEST_FILE = "request.json"

# ---------------------------------------------------------------------------------------------- #
# Files the training code writes
# ---------------------------------------------------------------------------------------------- #
# Every epoch's metrics and the final ones, in the output data folder (output.tar.gz).
METRICS_FILE = "metrics.json"

# ---------------------------------------------------------------------------------------------- #
# Hyperparameters of the SDK and the toolkit themselves, beside the job's own
# ---------------------------------------------------------------------------------------------- #
# Every one of them starts with this; the training code skips them.
SDK_HYPERPARAMETER_PREFIX = "sagemaker_"
# The script to run (the toolkit's SAGEMAKER_PROGRAM).
PROGRAM_HYPERPARAMETER = "sagemaker_program"
# The code archive, a JSON-encoded s3:// URI of sourcedir.tar.gz.
SUBMIT_DIRECTORY_HYPERPARAMETER = "sagemaker_submit_directory"
# The toolkit's log level (20: INFO).
CONTAINER_LOG_LEVEL_HYPERPARAMETER = "sagemaker_container_log_level"
# The training job's name.
JOB_NAME_HYPERPARAMETER = "sagemaker_job_name"
# The job's AWS region.
REGION_HYPERPARAMETER = "sagemaker_region"
# true: the image's toolkit starts the entry point under torchrun, several processes per host.
TORCH_DISTRIBUTED_HYPERPARAMETER = "sagemaker_torch_distributed_enabled"
# Processes per host under torchrun (the runner reads the MPI key for both).
PROCESSES_PER_HOST_HYPERPARAMETER = "sagemaker_mpi_num_of_processes_per_host"
