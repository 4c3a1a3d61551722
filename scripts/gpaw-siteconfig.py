# GPAW build configuration (read through GPAW_CONFIG by scripts/setup.sh).
# Debian 12: OpenMPI wrappers, OpenBLAS, FFTW3, ScaLAPACK (Debian calls it scalapack-openmpi), libxc.
mpi = True
compiler = 'mpic++'
libraries = ['xc', 'openblas', 'fftw3', 'scalapack-openmpi']
fftw = True
scalapack = True
