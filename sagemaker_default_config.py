"""SageMaker job defaults: the one documented reference of every job option.

Experiment YAML files (``configs/*.yaml``) override these, and ``KEY VALUE`` pairs after
``run_sagemaker_job.py --config FILE`` override both. Each key's comment gives its meaning and, in
brackets, the CreateTrainingJob field it becomes. Relative paths are resolved from the directory
the launcher is run in. The training options live in ``sagemaker_container/training_default_config.py``;
the two configs never share a top-level section, so a command-line override finds its owner by name.
"""

from yacs.config import CfgNode as CN

_C = CN()

# ---------------------------------------------------------------------------------------------- #
# SAGEMAKER: where and how the job runs
# ---------------------------------------------------------------------------------------------- #
_C.SAGEMAKER = CN()
# Execution role the job assumes, e.g. "arn:aws:iam::123456789012:role/SageMakerRole".
# Required for ml.* instance types. [RoleArn]
_C.SAGEMAKER.ROLE_ARN = ""
# AWS region of the job, its bucket and its image, e.g. "us-east-1". Required for ml.* types;
# local modes default to us-east-1 since they reach no AWS service. [client region]
_C.SAGEMAKER.REGION = ""
# Instance type: an "ml.*" training type (e.g. "ml.g5.xlarge"), or a local mode:
#   "local"         - SageMaker local mode: the image runs under Docker on this machine;
#   "local_gpu"     - the same with the GPUs exposed (one instance only);
#   "local_process" - no Docker: the entry point runs as a process here, so breakpoints just work.
# [ResourceConfig.InstanceType]
_C.SAGEMAKER.INSTANCE_TYPE = "ml.g5.xlarge"
# Number of instances; above 1 the job trains data-parallel across hosts. [ResourceConfig.InstanceCount]
_C.SAGEMAKER.INSTANCE_COUNT = 1
# Training processes on each instance; the job's world is INSTANCE_COUNT x this, and every process
# gets torchrun's variables (RANK, LOCAL_RANK, WORLD_SIZE, LOCAL_WORLD_SIZE, MASTER_ADDR,
# MASTER_PORT). 0: one per GPU of the instance (one on a CPU instance) for the example's main.py
# (the default TRAINING.DEFAULTS); for any other script, one per instance started plainly, as
# SageMaker runs scripts that take their rank from SM_HOSTS. A number starts that many on each
# instance, for any script. local_process starts them on this machine, local/local_gpu in each
# container. [HyperParameters sagemaker_torch_distributed_enabled, sagemaker_mpi_num_of_processes_per_host]
_C.SAGEMAKER.PROCESSES_PER_HOST = 0
# Size of the storage volume attached to each instance, in GB. [ResourceConfig.VolumeSizeInGB]
_C.SAGEMAKER.VOLUME_SIZE_GB = 30
# KMS key that encrypts the instance storage volume; empty uses the AWS managed key.
# [ResourceConfig.VolumeKmsKeyId]
_C.SAGEMAKER.VOLUME_KMS_KEY_ID = ""
# Keep the instances warm for this many seconds after the job ends so the next job with the same
# settings starts in seconds (a warm pool); 0 turns it off (the service's maximum applies). Not with spot.
# [ResourceConfig.KeepAlivePeriodInSeconds]
_C.SAGEMAKER.KEEP_ALIVE_PERIOD_SECONDS = 0
# Longest the job may train, in seconds, before SageMaker stops it. [StoppingCondition.MaxRuntimeInSeconds]
_C.SAGEMAKER.MAX_RUN_SECONDS = 86400
# Train on spot capacity (up to about 70-90% cheaper). A lost instance restarts the job, which
# resumes from its checkpoints (see CHECKPOINT_SYNC). [EnableManagedSpotTraining]
_C.SAGEMAKER.USE_SPOT_INSTANCES = False
# With spot: longest to wait for capacity plus train, in seconds; must be >= MAX_RUN_SECONDS.
# 0 means "not set" and is refused with spot. [StoppingCondition.MaxWaitTimeInSeconds]
_C.SAGEMAKER.MAX_WAIT_SECONDS = 0
# Prefix of the job name; the launcher appends a timestamp and a random suffix so every launch is
# unique. Letters, digits and hyphens. [TrainingJobName]
_C.SAGEMAKER.BASE_JOB_NAME = "experiment"
# Folder of training code uploaded with the job, e.g. "sagemaker_container"; its requirements.txt
# is installed when the job starts, so a code change needs no image rebuild. Empty runs the code
# baked into the image (/opt/ml/code). Local modes always use this folder, defaulting to
# sagemaker_container. [HyperParameters sagemaker_program / sagemaker_submit_directory]
_C.SAGEMAKER.SOURCE_DIR = ""
# Script inside SOURCE_DIR (or the image's /opt/ml/code) that starts training; any SageMaker-style
# script works unmodified. [HyperParameters sagemaker_program]
_C.SAGEMAKER.ENTRY_POINT = "main.py"
# Start an SSM agent in each training container, so "attach JOB" (an SSM session) can reach a
# debugger or a shell inside the running job; ml.* jobs only (not bayesian sweeps: the tuning API
# has no such field). The role needs ssmmessages:CreateControlChannel, CreateDataChannel,
# OpenControlChannel and OpenDataChannel. [RemoteDebugConfig.EnableRemoteDebug]
_C.SAGEMAKER.ENABLE_REMOTE_DEBUG = False
# Extra environment variables for the container, NAME: "value" (at most 100). [Environment]
_C.SAGEMAKER.ENVIRONMENT = CN(new_allowed=True)
# Extra tags on the job, Key: "value". The launcher adds its own (experiment, git commit, config
# location); at most 50 in all. [Tags]
_C.SAGEMAKER.TAGS = CN(new_allowed=True)

# ---------------------------------------------------------------------------------------------- #
# NETWORK: VPC placement and isolation
# ---------------------------------------------------------------------------------------------- #
_C.NETWORK = CN()
# Subnet IDs to run in, e.g. ["subnet-0abc1234"]; set together with SECURITY_GROUP_IDS.
# [VpcConfig.Subnets]
_C.NETWORK.SUBNETS = []
# Security group IDs for the job's network interfaces, e.g. ["sg-0abc1234"]. [VpcConfig.SecurityGroupIds]
_C.NETWORK.SECURITY_GROUP_IDS = []
# Cut the container off from the network (no outbound calls; S3 channels still work).
# [EnableNetworkIsolation]
_C.NETWORK.ENABLE_NETWORK_ISOLATION = False
# Encrypt traffic between the instances of a multi-instance job. [EnableInterContainerTrafficEncryption]
_C.NETWORK.ENCRYPT_INTER_CONTAINER_TRAFFIC = False

# ---------------------------------------------------------------------------------------------- #
# IMAGE: the training image in ECR
# ---------------------------------------------------------------------------------------------- #
_C.IMAGE = CN()
# Full image URI, e.g. "123456789012.dkr.ecr.us-east-1.amazonaws.com/digits-training:v1" (or a local
# image name for local modes). Takes precedence over REPOSITORY and TAG.
# [AlgorithmSpecification.TrainingImage]
_C.IMAGE.URI = ""
# ECR repository name, as given to build_and_push.sh; with TAG it composes
# "<account>.dkr.ecr.<REGION>.amazonaws.com/<REPOSITORY>:<TAG>", the account being the role's
# (SageMaker only passes roles of the caller's own account). For local modes: the local image name.
_C.IMAGE.REPOSITORY = ""
# Image tag within REPOSITORY, e.g. "v1" or a git commit.
_C.IMAGE.TAG = "latest"

# ---------------------------------------------------------------------------------------------- #
# S3: where the experiment's records and outputs go
# ---------------------------------------------------------------------------------------------- #
_C.S3 = CN()
# Bucket for configs, uploaded inputs, code, checkpoints and model output. Required for ml.* types.
_C.S3.BUCKET = ""
# Experiment name: every job's files go under s3://BUCKET/EXPERIMENT_NAME/<job-name>/, and the
# list command filters by it. Folders group experiments, e.g. "vision/detector/baseline": each
# "/"-separated segment is letters, digits, ".", "_" and "-" (not "." or ".."); at most 128 characters.
# "list --experiment vision/" lists the whole folder.
_C.S3.EXPERIMENT_NAME = "default"
# KMS key (ID, alias or ARN) for everything the job stores in S3: the launcher's own uploads (configs,
# record, request, code, local INPUTS) go up with SSE-KMS under it, and SageMaker encrypts the model
# and output archives with it. The API has no key field for checkpoints or TensorBoard files and AWS
# does not document which key SageMaker writes them with: make this key the bucket's default
# encryption when they must be under it too. Empty: the bucket's default encryption.
# Formerly S3.OUTPUT_KMS_KEY_ID, which is still read. [OutputDataConfig.KmsKeyId]
_C.S3.KMS_KEY_ID = ""

# ---------------------------------------------------------------------------------------------- #
# INPUTS: input channels, name -> location
# ---------------------------------------------------------------------------------------------- #
# Each entry becomes a channel the container reads from /opt/ml/input/data/<name>. A value is an
# S3 URI ("s3://bucket/prefix/") or a local folder or file; local paths are uploaded under the
# job's prefix for ml.* types, and local modes give each host its own view of them (a copy, or hard
# links for a large one), so what a job writes there never reaches your folder. The channel name
# "config" is reserved for the resolved configs. [InputDataConfig]
_C.INPUTS = CN(new_allowed=True)

# ---------------------------------------------------------------------------------------------- #
# CHECKPOINT_SYNC: spot resume (how training saves checkpoints is in the training config)
# ---------------------------------------------------------------------------------------------- #
_C.CHECKPOINT_SYNC = CN()
# Sync the container's checkpoint folder to S3 during the job and restore it on restart.
_C.CHECKPOINT_SYNC.ENABLED = True
# Where checkpoints are kept in S3; empty means s3://BUCKET/EXPERIMENT_NAME/<job-name>/checkpoints/.
# [CheckpointConfig.S3Uri]
_C.CHECKPOINT_SYNC.S3_URI = ""
# Folder inside the container that is synced. [CheckpointConfig.LocalPath]
_C.CHECKPOINT_SYNC.LOCAL_PATH = "/opt/ml/checkpoints"

# ---------------------------------------------------------------------------------------------- #
# DEBUGGER: a debugger inside the job, in every mode (sagemaker_container/job_debugger.py)
# ---------------------------------------------------------------------------------------------- #
_C.DEBUGGER = CN()
# Base TCP port. Host h (algo-<h+1>) and local rank r of the P processes on each host listen on
# PORT + h * P + r, with breakpoint() (SAGEMAKER.ENVIRONMENT.PYTHONBREAKPOINT job_debugger.set_trace)
# and with the hold below. The debugger binds 127.0.0.1; a Docker local run publishes the port on the
# host's loopback only; on SageMaker it is reached through "attach JOB" (an SSM session). A value
# other than the default travels as the job's SM_LAUNCHER_DEBUGGER_PORT. [Environment]
_C.DEBUGGER.PORT = 4444
# "pdb" (a terminal: "attach JOB", nc or telnet), or "debugpy" for VS Code / PyCharm to attach
# over the Debug Adapter Protocol, with the job's code folder mapped back to SOURCE_DIR. debugpy must
# be installed where the job runs: the image has it (sagemaker_container/requirements.txt), host mode
# takes it from the launcher's "debug" extra; without it pdb serves. [Environment]
_C.DEBUGGER.ADAPTER = "pdb"
# Seconds a failing process waits in a post-mortem debugger on its failing frame before the job ends
# with the failure it had; quitting the debugger ends it at once. 0: off. A small runner
# (job_debugger.py) then starts the entry point, added beside the code of any Python script; with
# SOURCE_DIR "" the image must carry it (DEBUGGER.IMAGE_HAS_RUNNER). At most MAX_RUN_SECONDS, which
# SageMaker enforces over the hold too. [HyperParameters sagemaker_program, Environment]
_C.DEBUGGER.HOLD_ON_FAILURE_SECONDS = 0
# The image's /opt/ml/code holds job_debugger.py beside its entry point, as the image of
# Dockerfile.sagemaker does: lets the hold run code baked into the image (SOURCE_DIR "").
_C.DEBUGGER.IMAGE_HAS_RUNNER = False

# ---------------------------------------------------------------------------------------------- #
# HYPERPARAMETERS: the entry point's own arguments
# ---------------------------------------------------------------------------------------------- #
# name: value pairs sent as SageMaker sends a script's hyperparameters: "--name value" on its command
# line, each value exactly as written in the YAML (1.10 stays 1.10), JSON-encoded in the request so
# the console and the tuner show numbers as numbers. E.g. {epochs: 10, backend: gloo} runs
# "script.py --backend gloo --epochs 10". Override one with "HYPERPARAMETERS.epochs 3". Names starting
# with "sagemaker_" are SageMaker's own. With the example's training defaults (TRAINING.DEFAULTS) set
# training keys instead: its main.py takes no arguments of its own. [HyperParameters]
_C.HYPERPARAMETERS = CN(new_allowed=True)

# ---------------------------------------------------------------------------------------------- #
# METRICS: metric name -> regex over the job's log, shown in the console and CloudWatch
# ---------------------------------------------------------------------------------------------- #
# The regex's first group is the value: "validation:accuracy": '\[metric\] validation:accuracy=([0-9.]+)'
# reads 0.9731 from "[metric] validation:accuracy=0.9731 epoch=4" (the digits experiment's configs
# list its three). Entries in a YAML file add to or replace others by name. At most 40.
# [AlgorithmSpecification.MetricDefinitions]
_C.METRICS = CN(new_allowed=True)

# ---------------------------------------------------------------------------------------------- #
# TRAINING: which training config goes with this job
# ---------------------------------------------------------------------------------------------- #
_C.TRAINING = CN()
# Where the training config's defaults come from, as "module:name" inside SAGEMAKER.SOURCE_DIR (the
# bundled sagemaker_container/ when SOURCE_DIR is empty); name is a yacs CfgNode or a function
# returning one, e.g. "my_project.config:get_cfg". The launcher imports it to check the training YAML
# and overrides against its keys (and the module's value_problems(cfg), when it has one), and writes
# the resolved config to the job's config channel as training_config.yaml. Three cases:
#   - the default: the digits example's defaults. Every training key is also sent as a hyperparameter
#     (SOLVER.BASE_LR), so the console and the tuner see it. A SOURCE_DIR without this module
#     has no training config (as with "").
#   - any other "module:name": a team's own YACS project. Its script reads the resolved
#     training_config.yaml from the config channel (SM_CHANNEL_CONFIG) and gets only HYPERPARAMETERS.
#   - "": no training config; CONFIG_FILE must be empty and the script gets only HYPERPARAMETERS.
_C.TRAINING.DEFAULTS = "training_default_config:get_training_cfg_defaults"
# Training YAML merged over those defaults, e.g. "configs/training_config.yaml"; empty trains on
# the defaults. Command-line overrides of training keys apply on top of it.
_C.TRAINING.CONFIG_FILE = ""

# ---------------------------------------------------------------------------------------------- #
# SWEEP: many jobs from one file (run with "python run_sagemaker_job.py sweep --config FILE")
# ---------------------------------------------------------------------------------------------- #
# A file with SWEEP.PARAMETERS is a sweep: a plain launch refuses it. Every point is an ordinary job
# (its own resolved configs and record) with the tags sm-launcher:sweep (the sweep's id) and
# sm-launcher:sweep-objective; "list --sweep ID" and "compare --sweep ID" find them again.
_C.SWEEP = CN()
# How points are chosen: "grid" (every combination of the PARAMETERS lists), "random" (MAX_JOBS draws)
# or "bayesian" (SageMaker's own hyperparameter tuner: ml.* instance types only, and only keys the
# job sends as hyperparameters: training keys and HYPERPARAMETERS.<name>).
_C.SWEEP.STRATEGY = "grid"
# Config key -> its values, any key of either config (SageMaker keys not with bayesian). A list
# ("SOLVER.BASE_LR: [0.01, 0.003]") or a range ("SOLVER.BASE_LR: {MIN: 1e-4, MAX: 0.1, SCALE: log}",
# SCALE linear or log; finite numbers, exponent form too; whole-number bounds give whole numbers).
# Ranges need random or bayesian. A list's value reaches its point's job exactly as the same
# "KEY: value" written in this file would ("IMAGE.TAG: [1.10]" runs tag 1.10, "HYPERPARAMETERS.lr:
# [0.050]" passes 0.050), and dry runs show it so. SAGEMAKER.INSTANCE_TYPE's values are all local
# modes or all ml.* types: local points run on this machine, ml.* ones on SageMaker.
_C.SWEEP.PARAMETERS = CN(new_allowed=True)
# What ranks the points: compare --sweep lists them best first, the bayesian tuner steers by it.
_C.SWEEP.OBJECTIVE = CN()
# The metric that ranks the points, a METRICS name, e.g. "validation:accuracy". [HyperParameterTuning-
# JobObjective.MetricName]
_C.SWEEP.OBJECTIVE.METRIC = ""
# "maximize" or "minimize" the metric. [HyperParameterTuningJobObjective.Type]
_C.SWEEP.OBJECTIVE.GOAL = "maximize"
# Most jobs the sweep runs: the draws of random and bayesian; a larger grid is refused. At most 1000
# for grid and random, 750 for bayesian (SageMaker's tuner's limit).
# [ResourceLimits.MaxNumberOfTrainingJobs]
_C.SWEEP.MAX_JOBS = 10
# Most jobs running at once on SageMaker, at most 100; local points always run one after another. A
# sweep stopped by a failed launch or an interrupt leaves its started jobs running and names them.
# [ResourceLimits.MaxParallelTrainingJobs]
_C.SWEEP.MAX_PARALLEL = 2
# Seed of random's draws, so a sweep's points can be planned again.
_C.SWEEP.SEED = 0

# ---------------------------------------------------------------------------------------------- #
# LOCAL: runs on this machine (local, local_gpu, local_process)
# ---------------------------------------------------------------------------------------------- #
_C.LOCAL = CN()
# Folder that receives each local run's /opt/ml tree, model.tar.gz and output.tar.gz, one
# subfolder per job name.
_C.LOCAL.RUNS_DIR = "runs"
# Where local_process runs install SOURCE_DIR/requirements.txt (what SageMaker installs when the job
# starts) when the launcher's own environment does not already meet it: one virtual environment per
# distinct file set (with its -r/-c files) and interpreter, made by pip's resolver, seeing the
# launcher's packages, reused by later runs. The launcher's own environment is never changed.
_C.LOCAL.REQUIREMENTS_CACHE_DIR = "~/.cache/sm-launcher/requirements"


def get_sagemaker_cfg_defaults() -> CN:
    """Return a fresh copy of the defaults, so callers never mutate the module's node."""
    return _C.clone()
