"""The four degradation types UniRain is trained on, indexed by ``gt_label``."""
from typing import Union

RAIN_TYPES = ('DRS', 'DRD', 'NRS', 'NRD')
RAIN_TYPE_NAMES = {
    'DRS': 'daytime rain streaks',
    'DRD': 'daytime raindrops',
    'NRS': 'nighttime rain streaks',
    'NRD': 'nighttime raindrops',
}


def rain_type_id(rain_type: Union[int, str]) -> int:
    """Id (0..3) of a type given by id or code, e.g. ``'NRS'`` -> 2."""
    if isinstance(rain_type, str) and rain_type.upper() in RAIN_TYPES:
        return RAIN_TYPES.index(rain_type.upper())
    if isinstance(rain_type, int) and 0 <= rain_type < len(RAIN_TYPES):
        return rain_type
    raise ValueError(f'unknown rain type {rain_type!r}; expected one of '
                     f'{RAIN_TYPES} or an id 0..{len(RAIN_TYPES) - 1}')
