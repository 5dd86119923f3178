# IVF benchmark files
