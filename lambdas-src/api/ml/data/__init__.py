"""The sample data set and its generator."""
