"""Registries of the distillation pipeline: encoders, judges and sources."""
from mmengine.registry import Registry

#: Captioners and image/text embedders (``unirain_mm.distill.encoders``).
ENCODERS = Registry('distill encoder',
                    locations=['unirain_mm.distill.encoders'])
#: Yes/no judges of a query and its references
#: (``unirain_mm.distill.judges``).
JUDGES = Registry('distill judge', locations=['unirain_mm.distill.judges'])
#: Where the query pairs come from (``queries``;
#: ``unirain_mm.distill.sources``).
QUERY_SOURCES = Registry('distill query source',
                         locations=['unirain_mm.distill.sources'])
#: Where the knowledge-base photos come from (``kb.sources``;
#: ``unirain_mm.distill.sources``).
PHOTO_SOURCES = Registry('distill photo source',
                         locations=['unirain_mm.distill.sources'])
