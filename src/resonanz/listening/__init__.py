"""Listening: the boolean query language (``query/``, pure), searching history with it
(:mod:`resonanz.listening.history`) and testing a draft query (:mod:`resonanz.listening.service`)."""
