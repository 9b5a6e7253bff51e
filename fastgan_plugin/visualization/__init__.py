from .curves import CURVES_FILE, group_scalars, plot_curves, plot_training_curves, read_scalars
from .visualizer import CheckerboardVisualizer

__all__ = ['CURVES_FILE', 'CheckerboardVisualizer', 'group_scalars', 'plot_curves',
           'plot_training_curves', 'read_scalars']
