from .inference import generate_to_folder, init_model, sample_images, seeded_noise, to_pil

__all__ = ['generate_to_folder', 'init_model', 'sample_images', 'seeded_noise', 'to_pil']
