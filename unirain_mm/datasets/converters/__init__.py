"""Converters from the published layouts of public deraining datasets into
the four-type layout ``<out>/<split>/<type>/{input,target}/``, with list
files for the LMDB packer.

Example::

    from unirain_mm.datasets.converters import convert
    convert('rain13k', 'downloads/Datasets', 'data/unirain')

``tools/dataset_converters/convert_rain_datasets.py`` is the command line;
``--list-datasets`` shows the layout each converter expects.
"""
from . import generic, night, raindrops, rainrag, streaks  # noqa: F401
from .core import (CONVERTERS, MODES, ConvertSummary, convert,
                   converter_names, converter_options, describe)

__all__ = [
    'CONVERTERS', 'MODES', 'ConvertSummary', 'convert', 'converter_names',
    'converter_options', 'describe'
]
