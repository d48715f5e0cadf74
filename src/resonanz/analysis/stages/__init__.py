"""Pipeline stages. The contract is :mod:`resonanz.analysis.stages.base`."""
