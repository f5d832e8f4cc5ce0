#include "testing/process_probe.h"

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include <dirent.h>
#include <signal.h>

namespace tributary::testing {

bool ProcessGone(pid_t pid) {
  return kill(pid, 0) != 0 && errno == ESRCH;
}

std::vector<pid_t> ChildProcessesOf(pid_t parent) {
  std::vector<pid_t> out;
  DIR* proc = opendir("/proc");
  if (proc == nullptr) {
    return out;
  }
  while (dirent* entry = readdir(proc)) {
    char* end = nullptr;
    long pid = std::strtol(entry->d_name, &end, 10);
    if (end == entry->d_name || *end != '\0') {
      continue;
    }
    std::ifstream stat_file(std::string("/proc/") + entry->d_name + "/stat");
    std::string line;
    if (!std::getline(stat_file, line) || line.rfind(')') == std::string::npos) {
      continue;
    }
    // /proc/<pid>/stat: "pid (comm) state ppid ..."; comm may contain spaces.
    std::istringstream fields(line.substr(line.rfind(')') + 2));
    char state = 0;
    long ppid = 0;
    fields >> state >> ppid;
    if (ppid == parent && state != 'Z') {
      out.push_back(static_cast<pid_t>(pid));
    }
  }
  closedir(proc);
  return out;
}

}  // namespace tributary::testing
