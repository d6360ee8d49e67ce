"""Telemetry: sampled off the training thread, NVML stood in by a fake, recorded in the run log."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

from tui_trainer import telemetry
from tui_trainer.events import Telemetry, from_dict, to_dict
from tui_trainer.runstate import RunState
from tui_trainer.telemetry import Sampler, describe, driver_cuda_version, gpu_samples


class FakeNVML:
    """The part of pynvml the sampler uses: two GPUs, the second one busy."""

    def __init__(self):
        self.calls_from: set[str] = set()
        self.shut = False

    def nvmlInit(self):
        pass

    def nvmlShutdown(self):
        self.shut = True

    def nvmlDeviceGetCount(self):
        return 2

    def nvmlDeviceGetHandleByIndex(self, i):
        self.calls_from.add(threading.current_thread().name)
        return i

    def nvmlDeviceGetName(self, h):
        return b"NVIDIA H200"

    def nvmlDeviceGetUtilizationRates(self, h):
        return SimpleNamespace(gpu=[3, 87][h], memory=0)

    def nvmlDeviceGetMemoryInfo(self, h):
        gib = 1024 ** 3
        return SimpleNamespace(used=[1 * gib, 12 * gib][h], total=140 * gib, free=0)

    def nvmlSystemGetCudaDriverVersion_v2(self):
        return 12040


def test_gpu_samples_from_nvml():
    assert gpu_samples(FakeNVML()) == (
        {"index": 0, "name": "NVIDIA H200", "util": 3, "mem_used_mb": 1024.0, "mem_total_mb": 143360.0},
        {"index": 1, "name": "NVIDIA H200", "util": 87, "mem_used_mb": 12288.0, "mem_total_mb": 143360.0},
    )


def test_sampler_runs_in_its_own_thread_at_most_twice_a_second():
    nvml = FakeNVML()
    got: list[Telemetry] = []
    sampler = Sampler(got.append, interval_s=0.01, nvml=nvml)  # asks for 100/s: gets 2/s
    assert sampler.interval_s == 0.5
    sampler.start()
    time.sleep(1.3)
    sampler.stop(tf=None)
    assert 2 <= len(got) <= 4  # two or so in 1.3 s, and the last one at stop
    assert nvml.calls_from == {"tui-trainer-telemetry", threading.current_thread().name}  # stop() samples once
    last = got[-1]
    assert [g["util"] for g in last.gpus] == [3, 87]
    assert last.rss_mb and last.rss_mb > 10 and last.cpu_percent is not None
    assert describe(last) == "GPU0 3% 1.0/140.0 GiB · GPU1 87% 12.0/140.0 GiB"


def test_without_nvml_there_are_no_gpu_lines_and_no_error(monkeypatch):
    monkeypatch.setattr(telemetry, "load_nvml", lambda: None)
    got: list[Telemetry] = []
    sampler = Sampler(got.append).start()
    sampler.stop(tf=None)
    assert got and got[-1].gpus == () and got[-1].tf_peak_mb is None
    text = describe(got[-1])
    assert text.startswith("CPU ") and "% · RAM " in text and text.endswith(" GiB")


def test_missing_pynvml_package_is_no_gpu(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_pynvml(name, *args, **kwargs):
        if name == "pynvml":
            raise ImportError("No module named 'pynvml'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pynvml)
    assert telemetry.load_nvml() is None


def test_tf_peak_memory_is_in_the_last_sample():
    class FakeTF:
        class config:
            @staticmethod
            def list_logical_devices(kind):
                return [SimpleNamespace(name="/device:GPU:0")]

            class experimental:
                @staticmethod
                def get_memory_info(name):
                    return {"current": 0, "peak": 3 * 1024 ** 3}

    got: list[Telemetry] = []
    Sampler(got.append, nvml=FakeNVML()).start().stop(tf=FakeTF)
    assert got[-1].tf_peak_mb == (3072.0,)
    assert describe(got[-1]).endswith("TF peak 3.0 GiB")


def test_telemetry_round_trips_through_the_log_and_runstate():
    t = Telemetry(elapsed_s=1.5, cpu_percent=150.0, rss_mb=900.0,
                  gpus=({"index": 0, "name": "H200", "util": 50, "mem_used_mb": 2048.0, "mem_total_mb": 4096.0},),
                  tf_peak_mb=(1500.0,))
    back = from_dict(to_dict(t))
    assert back == t
    state = RunState()
    before = state.epoch_version
    state.apply(back)
    assert state.telemetry == t and state.epoch_version == before  # no chart redraw for telemetry


def test_driver_cuda_version_exactly():
    assert driver_cuda_version(FakeNVML()) == "12.4"
    assert telemetry.cuda_text(12020) == "12.2" and telemetry.cuda_text(11080) == "11.8"


def test_doctor_states_the_driver_cuda_version(monkeypatch):
    from tui_trainer import doctor

    monkeypatch.setattr(doctor, "nvidia_driver", lambda: (True, "nvidia-smi: NVIDIA H200 (140 GiB); driver 550.54"))
    monkeypatch.setattr(telemetry, "load_nvml", lambda: FakeNVML())
    rows = {r.check: r for r in doctor.run_checks(None, tensorflow=False)}
    assert rows["Driver CUDA"].value.startswith("12.4 (the newest CUDA this driver runs")
    assert doctor.cuda_mismatch("12.2", "12.5.1") == (
        "the driver supports CUDA up to 12.2, older than the CUDA 12.5.1 this TensorFlow is built for: "
        "update the NVIDIA driver")
    assert doctor.cuda_mismatch("12.4", "12.3") == ""
