"""The embedded sensor demos (defined with the readers, which take them by name: ``sensor-demo``)."""
from adkit.io.sensor_demo import GW_RATE, GW_SECONDS, coloured_noise, demo, gw, rates, write_gw_csv

__all__ = ["GW_RATE", "GW_SECONDS", "coloured_noise", "demo", "gw", "rates", "write_gw_csv"]
