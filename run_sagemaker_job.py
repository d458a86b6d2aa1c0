"""Turn a YAML experiment file into a SageMaker training job, or run it locally first.

    python run_sagemaker_job.py --config configs/sagemaker_config.yaml [KEY VALUE ...]

The command line lives in ``sagemaker_launcher.cli`` (installed as ``sm-launch`` too); this file
keeps the documented command working from a checkout without installing anything.
"""

from sagemaker_launcher.cli import run

if __name__ == "__main__":
    run()
