"""The renewal model: the only package that imports scikit-learn."""
