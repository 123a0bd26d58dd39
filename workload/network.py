"""A small flight network: real airports, great-circle distances, fares that follow distance
and cabin. Plausible, not a timetable."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from decimal import Decimal

AIRPORTS: dict[str, tuple[float, float]] = {
    "CPH": (55.618, 12.656),
    "ARN": (59.652, 17.919),
    "OSL": (60.194, 11.100),
    "HEL": (60.317, 24.963),
    "LHR": (51.470, -0.454),
    "CDG": (49.010, 2.548),
    "FRA": (50.033, 8.571),
    "AMS": (52.310, 4.768),
    "MAD": (40.472, -3.561),
    "FCO": (41.800, 12.239),
    "ZRH": (47.464, 8.549),
    "VIE": (48.110, 16.570),
    "JFK": (40.640, -73.779),
    "ORD": (41.978, -87.905),
    "LAX": (33.942, -118.408),
    "SFO": (37.619, -122.375),
    "YYZ": (43.677, -79.625),
    "DXB": (25.253, 55.364),
    "BKK": (13.690, 100.750),
    "NRT": (35.772, 140.393),
    "PEK": (40.080, 116.585),
    "SIN": (1.359, 103.989),
    "HKG": (22.308, 113.918),
    "SYD": (-33.946, 151.177),
    "GRU": (-23.435, -46.473),
    "JNB": (-26.139, 28.246),
    "DEL": (28.556, 77.100),
    "IST": (41.275, 28.752),
    "BCN": (41.297, 2.078),
    "MUC": (48.354, 11.786),
}
HUBS = ("CPH", "ARN", "OSL")
CABINS = {  # cabin -> (fare classes, fare factor)
    "economy": (("Y", "B", "M", "Q", "V"), Decimal("1.0")),
    "premium_economy": (("W",), Decimal("1.7")),
    "business": (("J", "C", "D"), Decimal("3.6")),
    "first": (("F", "A"), Decimal("5.5")),
}
CABIN_WEIGHTS = (80, 8, 10, 2)


def distance_miles(a: str, b: str) -> int:
    """Great-circle distance in statute miles (haversine, mean Earth radius)."""
    (lat1, lon1), (lat2, lon2) = AIRPORTS[a], AIRPORTS[b]
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return max(1, round(2 * 3958.8 * math.asin(math.sqrt(h))))


@dataclass(frozen=True)
class Itinerary:
    origin: str
    destination: str
    distance: int
    cabin: str
    fare_class: str
    base_fare: Decimal
    surcharges: Decimal
    taxes: Decimal


def itinerary(rng: random.Random) -> Itinerary:
    origin = rng.choice(HUBS) if rng.random() < 0.7 else rng.choice(list(AIRPORTS))
    destination = rng.choice([code for code in AIRPORTS if code != origin])
    miles = distance_miles(origin, destination)
    cabin = rng.choices(list(CABINS), CABIN_WEIGHTS)[0]
    classes, factor = CABINS[cabin]
    # Economy fares rise sub-linearly with distance; the jitter is the yield-management noise.
    economy = Decimal(40) + Decimal(miles) * Decimal("0.09")
    jitter = Decimal(rng.randint(70, 160)) / 100
    base = (economy * factor * jitter).quantize(Decimal("0.01"))
    surcharges = (base * Decimal(rng.randint(5, 25)) / 100).quantize(Decimal("0.01"))
    taxes = Decimal(rng.randint(1500, 9000)) / 100
    return Itinerary(
        origin, destination, miles, cabin, rng.choice(classes), base, surcharges, taxes
    )
