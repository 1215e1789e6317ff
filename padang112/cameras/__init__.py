"""CCTV cameras: the registry, stream proxy, RTSP restreaming, health probes, and the cameras near an incident.

``model`` (values), ``validation`` (admin input), ``registry`` (tables ``cameras``, ``camera_health``,
``wall_layouts``), ``urls`` (credentials kept off the browser, HLS playlist rewriting), ``proxy`` (fetching
from cameras), ``restream`` (ffmpeg RTSP → HLS on demand), ``probe`` (periodic health checks), ``nearest``
(haversine distance) and ``access`` (who may watch which camera).
"""
