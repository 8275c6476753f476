"""Imported by unicode_names.py: a module whose file name and function are not ASCII."""

import time


def 计算_ünïcode() -> None:
    end = time.perf_counter() + 0.01
    while time.perf_counter() < end:
        pass
