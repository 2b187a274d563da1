"""Registries of the distillation pipeline's encoders and judges."""
from mmengine.registry import Registry

#: Captioners and image/text embedders (``unirain_mm.distill.encoders``).
ENCODERS = Registry('distill encoder',
                    locations=['unirain_mm.distill.encoders'])
#: Yes/no judges of a query and its references
#: (``unirain_mm.distill.judges``).
JUDGES = Registry('distill judge', locations=['unirain_mm.distill.judges'])
