#include <cstdio>

int main() {
  std::puts("tributary");
  return 0;
}
