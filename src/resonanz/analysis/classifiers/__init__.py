"""Trained classifiers behind the stages: training from ``../shared/data``, the shipped artifacts
(in ``resonanz/analysis/artifacts``), lazy loading once per process, and prediction."""
