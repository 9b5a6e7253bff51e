from .inference import init_model, sample_images, seeded_noise, to_pil

__all__ = ['init_model', 'sample_images', 'seeded_noise', 'to_pil']
