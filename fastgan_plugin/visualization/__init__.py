from .curves import CURVES_FILE, group_scalars, plot_curves, plot_training_curves, read_scalars

__all__ = ['CURVES_FILE', 'group_scalars', 'plot_curves', 'plot_training_curves', 'read_scalars']
