"""The fictional demo city 青岚市 (Qinglan), generated for civicgrid by scripts/make_demo_city.py.

Stages, one module each:

* :mod:`.city`, :mod:`.hierarchy`, :mod:`.partition`: the city outline and the hierarchy
  city → districts → streets/towns → communities/villages → grids, made an exact tiling.
* :mod:`.points`, :mod:`.shapes`: inspection points of every kind.
* :mod:`.problems`, :mod:`.attributes`, :mod:`.lifecycle`: problems and their lifecycle.
* :mod:`.checks`: the assertions every run must pass; :mod:`.writers`: GeoJSON and CSV.
* :mod:`.pipeline`: the stages in order; :mod:`.config`, :mod:`.tables`, :mod:`.names`:
  fixed settings, data tables and name tables.

CRS and units: every output coordinate is WGS-84 longitude/latitude (EPSG:4326) rounded to
6 decimals (about 0.1 m). All metric work (Voronoi seeding, feature sizes, offsets,
distances, areas) is done in UTM zone 51N (EPSG:32651), in metres and square metres.
Times are China Standard Time (UTC+08:00), as a snapshot at the fixed ``REFERENCE_TIME``;
with the fixed seed the output is byte-identical from run to run.
"""
