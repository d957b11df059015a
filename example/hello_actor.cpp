#include <spindle/system.hpp>
#include <iostream>

struct add { int n; };
struct total {};

struct counter : spindle::actor<counter, add, total>
{
    int sum = 0;
    void on(add const& m) { sum += m.n; }
    int on(total) { return sum; } // an ask's reply is the handler's return value
};

int main()
{
    spindle::system sys;                      // one worker thread per core
    auto c = sys.spawn<counter>();
    for(int i = 1; i <= 10; ++i) c.tell(add{i});
    std::cout << "total = " << c.ask(total{}).get() << '\n'; // prints 55
}
