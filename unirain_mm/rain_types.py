"""The four degradation types UniRain learns, indexed by ``gt_label``."""
from typing import Union

import numpy as np

#: Degradation codes; the position of a code is its integer type id.
RAIN_TYPES = ('DRS', 'DRD', 'NRS', 'NRD')
RAIN_TYPE_NAMES = {
    'DRS': 'daytime rain streaks',
    'DRD': 'daytime raindrops',
    'NRS': 'nighttime rain streaks',
    'NRD': 'nighttime raindrops',
}


def rain_type_code(rain_type: Union[int, str, np.integer]) -> str:
    """Normalise a rain type id or code to its code, e.g. ``2`` -> ``'NRS'``.

    Raises:
        ValueError: If ``rain_type`` names no known type.
    """
    if isinstance(rain_type, (int, np.integer)) and not isinstance(
            rain_type, (bool, np.bool_)):
        if 0 <= int(rain_type) < len(RAIN_TYPES):
            return RAIN_TYPES[int(rain_type)]
    elif isinstance(rain_type, str):
        code = rain_type.strip().upper()
        if code in RAIN_TYPES:
            return code
    raise ValueError(f'unknown rain type {rain_type!r}: expected an id in '
                     f'0..{len(RAIN_TYPES) - 1} or one of {RAIN_TYPES}')


def rain_type_id(rain_type: Union[int, str, np.integer]) -> int:
    """Id (0..3) of a type given by id or code, e.g. ``'NRS'`` -> 2."""
    return RAIN_TYPES.index(rain_type_code(rain_type))
