"""Text classifier: training (algo.py), sample data and the model file format (model.py)."""
