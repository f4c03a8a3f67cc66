"""This project on localcloud: `make up` and `make demo` (python -m offline up|demo).

The emulator (packages/localcloud) and the Pulumi harness (packages/localcloud-pulumi) know nothing of this project;
what does lives here: which stacks to deploy in which order, the AWS CLI profiles of its users, and the demo.
"""
