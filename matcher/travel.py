"""Distances and travel times between every place of a problem, as numpy matrices.

Three ways to measure, chosen by `problem.travel.method`:
- `coordinates`: great-circle distance for lat/lon (plain Euclidean metres for x_m/y_m),
  times the detour factor, because streets and stairs are longer than straight lines;
- `matrix`: the user's own distances between named places, used as given;
- `graph`: shortest paths over a walkway graph given as an edge list (one multi-source
  Dijkstra of SciPy over the places used).
Travel time is distance divided by the volunteer's speed, unless the matrix also gives explicit
travel minutes (`travel.matrix.travel_min`): then those minutes are everyone's travel time.
Everything is computed once per problem.
"""

from __future__ import annotations

import math

import numpy as np

from matcher.models import Location, Problem, Volunteer

EARTH_RADIUS_M = 6_371_008.8


def great_circle_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle (haversine) distance in metres between two points on the Earth."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlam = phi2 - phi1, math.radians(lon2 - lon1)
    h = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlam / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def _place_key(location: Location, method: str) -> tuple[object, ...]:
    if method != "coordinates":
        return ("place", location.place)
    if location.lat is not None:
        return ("geo", location.lat, location.lon)
    return ("xy", location.x_m, location.y_m)


class TravelModel:
    """Every place of a problem numbered once, with the distance matrix between them.

    Places are recipients' homes, volunteers' homes and start locations, and venues; identical
    places share one index. `recipient_place`, `home_place`, `start_place` and `venue_place` map
    ids to indices.
    """

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        method = problem.travel.method
        keys: dict[tuple[object, ...], int] = {}
        self.locations: list[Location] = []

        def index_of(location: Location) -> int:
            key = _place_key(location, method)
            if key not in keys:
                keys[key] = len(self.locations)
                self.locations.append(location)
            return keys[key]

        self.recipient_place = {r.id: index_of(r.location) for r in problem.recipients}
        self.home_place = {v.id: index_of(v.home) for v in problem.volunteers}
        self.start_place = {v.id: index_of(v.route_start) for v in problem.volunteers}
        self.venue_place = {venue.id: index_of(venue.location) for venue in problem.venues}
        self.distance_m = self._distances()
        self.explicit_time_min = self._explicit_times()
        """Travel minutes between place indices for everyone, when the matrix gives them; None
        when travel time is distance over each volunteer's speed."""
        self._speed = {v.id: problem.travel.speed_of(v) for v in problem.volunteers}
        self._time_by_speed: dict[float, np.ndarray] = {}

    def _matrix_in_place_order(self, rows: list[list[float]]) -> np.ndarray:
        """A matrix over the travel matrix's places, rows and columns reordered to place indices.
        Only the rows of places someone is at are converted (a 5,000-place matrix holds 25
        million entries, most of them between places nobody in the problem is at)."""
        matrix = self.problem.travel.matrix
        assert matrix is not None
        position = {name: index for index, name in enumerate(matrix.places)}
        order = [position[location.place] for location in self.locations if location.place]
        if not order:
            return np.zeros((0, 0))
        given = np.asarray([rows[index] for index in order], dtype=float)
        return np.ascontiguousarray(given[:, order])

    def _explicit_times(self) -> np.ndarray | None:
        """The matrix's own travel minutes, when the method is `matrix` and it gives them."""
        travel = self.problem.travel
        if travel.method != "matrix" or travel.matrix is None or travel.matrix.travel_min is None:
            return None
        return self._matrix_in_place_order(travel.matrix.travel_min)

    def _distances(self) -> np.ndarray:
        travel = self.problem.travel
        if travel.method == "matrix":
            assert travel.matrix is not None
            return self._matrix_in_place_order(travel.matrix.distance_m)
        if travel.method == "graph":
            return self._graph_distances()
        return self._coordinate_distances() * travel.detour_factor

    def _coordinate_distances(self) -> np.ndarray:
        if not self.locations:
            return np.zeros((0, 0))
        if self.locations[0].is_geographic:
            lat = np.radians(np.array([location.lat for location in self.locations], dtype=float))
            lon = np.radians(np.array([location.lon for location in self.locations], dtype=float))
            dphi = lat[None, :] - lat[:, None]
            dlam = lon[None, :] - lon[:, None]
            h = (
                np.sin(dphi / 2) ** 2
                + np.cos(lat)[:, None] * np.cos(lat)[None, :] * np.sin(dlam / 2) ** 2
            )
            result: np.ndarray = 2 * EARTH_RADIUS_M * np.arcsin(np.minimum(1.0, np.sqrt(h)))
            return result
        x = np.array([location.x_m for location in self.locations], dtype=float)
        y = np.array([location.y_m for location in self.locations], dtype=float)
        planar: np.ndarray = np.hypot(x[None, :] - x[:, None], y[None, :] - y[:, None])
        return planar

    def _graph_distances(self) -> np.ndarray:
        """Shortest walkway paths between the places used, in one multi-source Dijkstra over the
        sparse graph (parallel edges keep the shortest; unreachable places are infinitely far)."""
        from scipy.sparse import coo_matrix
        from scipy.sparse.csgraph import dijkstra

        names = [location.place for location in self.locations]
        size = len(names)
        if size == 0:
            return np.zeros((0, 0))
        walkways = self.problem.travel.walkways
        node: dict[str, int] = {}
        for name in names:
            node.setdefault(str(name), len(node))
        shortest: dict[tuple[int, int], float] = {}
        for edge in walkways:
            a = node.setdefault(edge.a, len(node))
            b = node.setdefault(edge.b, len(node))
            if a == b:
                continue
            key = (a, b) if a < b else (b, a)
            weight = float(edge.distance_m)
            if key not in shortest or weight < shortest[key]:
                shortest[key] = weight
        sources = np.array([node[str(name)] for name in names], dtype=np.int64)
        pairs = np.array(list(shortest), dtype=np.int64).reshape(-1, 2)
        weights = np.array(list(shortest.values()), dtype=float)
        graph = coo_matrix((weights, (pairs[:, 0], pairs[:, 1])), shape=(len(node), len(node)))
        unique_sources, rows = np.unique(sources, return_inverse=True)
        lengths = dijkstra(graph.tocsr(), directed=False, indices=unique_sources)
        return np.ascontiguousarray(
            np.asarray(lengths).reshape(len(unique_sources), -1)[np.ix_(rows, sources)]
        )

    def speed_m_per_min(self, volunteer: str | Volunteer) -> float:
        """The volunteer's speed in metres per minute."""
        key = volunteer if isinstance(volunteer, str) else volunteer.id
        return self._speed[key]

    def distance(self, origin: int, destination: int) -> float:
        """Metres from one place index to another."""
        return float(self.distance_m[origin, destination])

    def travel_min(self, volunteer: str | Volunteer, origin: int, destination: int) -> float:
        """Minutes this volunteer needs from one place index to another."""
        if self.explicit_time_min is not None:
            return float(self.explicit_time_min[origin, destination])
        return float(self.distance_m[origin, destination]) / self.speed_m_per_min(volunteer)

    def time_matrix(self, volunteer: str | Volunteer) -> np.ndarray:
        """The whole matrix of travel minutes for this volunteer: the explicit one when given,
        else distance at their speed (shared per speed)."""
        if self.explicit_time_min is not None:
            return self.explicit_time_min
        speed = self.speed_m_per_min(volunteer)
        if speed not in self._time_by_speed:
            self._time_by_speed[speed] = self.distance_m / speed
        return self._time_by_speed[speed]
