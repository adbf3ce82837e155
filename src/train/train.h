#ifndef AX_TRAIN_H
#define AX_TRAIN_H
#endif
