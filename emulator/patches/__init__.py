"""Everything that runs inside the emulator's server process and patches moto: the glue
(``glue.install`` installs it all), the Lambda runtime, the service modules, IAM, KMS and API
authorization. Written against one moto version (``moto_version.PINNED``)."""
